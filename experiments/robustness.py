"""How often the shipped model's answer changes when a text is written otherwise but means the
same: the forms feeds and scraped pages send (HTML character references and tags, credits,
capitals, text without diacritics). Measurement only: nothing here is chosen.

    python experiments/robustness.py ../shared/data [--n 2000] [--model DIR]

The texts are the first ``n`` titles, and the same titles with their lead, of VnExpress 2020s
and of today's news' training part (never its held-out April 2026). Each row is the share of
``predict(text, allow_none=True)`` answers that differ from the text's own answer.
"""

from __future__ import annotations

import argparse
import html
import unicodedata
from collections.abc import Callable
from pathlib import Path

import nlpkit
from nlpkit.corpus import is_heldout, read_corpus


def _no_diacritics(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _page(text: str) -> str:
    title, _, lead = text.partition("\n")
    link = '<a href="https://vnexpress.net/thoi-su" title="Thời sự">'
    return f'<h1 class="title-detail">{title}</h1>\n<p class="description">{link}{lead}</a></p>'


def _first_line(text: str, change: Callable[[str], str]) -> str:
    title, sep, rest = text.partition("\n")
    return change(title) + sep + rest


FORMS: list[tuple[str, Callable[[str], str]]] = [
    (
        "numeric references for every non-ASCII letter",
        lambda t: "".join(c if ord(c) < 128 else f"&#{ord(c)};" for c in t),
    ),  # fmt: skip
    ("named references (html.escape, &nbsp;)", lambda t: html.escape(t).replace(" ", "&nbsp;", 1)),
    ("U+2028 for the line end", lambda t: t.replace("\n", "\u2028")),
    ("decomposed Unicode (NFD)", lambda t: unicodedata.normalize("NFD", t)),
    ("<p>...</p> around each line", lambda t: "\n".join(f"<p>{x}</p>" for x in t.split("\n"))),
    ("a page's markup (`<h1>`, `<p>`, a link)", _page),
    ("<br/> for the line end", lambda t: t.replace("\n", "<br/>")),
    ('"Ảnh: Reuters" after the title', lambda t: _first_line(t, lambda x: x + " Ảnh: Reuters")),
    ('"Video:" before the title', lambda t: "Video: " + t),
    ('"Theo VnExpress" at the end', lambda t: t + "\nTheo VnExpress"),
    ("the title in capitals", lambda t: _first_line(t, str.upper)),
    ("the title in Title Case", lambda t: _first_line(t, str.title)),
    ("no diacritics", _no_diacritics),
]


def _texts(data: Path, n: int) -> tuple[list[str], list[str]]:
    titles: list[str] = []
    leads: list[str] = []
    for name in ("vnexpress_2020s.jsonl", "news_2025_26.jsonl"):
        taken = 0
        for record in read_corpus(data / name):
            if is_heldout(record) or not record.title or not record.text:
                continue
            titles.append(record.title)
            leads.append(f"{record.title}\n{record.text}")
            taken += 1
            if taken >= n // 2:
                break
    return titles, leads


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="the folder of the corpora")
    parser.add_argument("--n", type=int, default=2000, help="texts of each kind (default 2000)")
    parser.add_argument("--model", help="a model folder (default: the shipped model)")
    args = parser.parse_args()
    model = nlpkit.load(args.model) if args.model else nlpkit.load()
    kinds = dict(zip(("titles", "title + lead"), _texts(args.data, args.n)))
    own = {kind: model.predict(texts, allow_none=True) for kind, texts in kinds.items()}
    print(f"| written as | {' | '.join(f'{k} ({len(t):,})' for k, t in kinds.items())} |")
    print("|---|" + "---|" * len(kinds))
    for name, change in FORMS:
        cells = []
        for kind, texts in kinds.items():
            answers = model.predict([change(t) for t in texts], allow_none=True)
            changed = sum(a != b for a, b in zip(answers, own[kind]))
            cells.append(f"{100 * changed / len(texts):.1f}%")
        print(f"| {name} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
