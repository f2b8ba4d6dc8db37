"""Write the unlabelled feed of the adaptation experiment: the training part of today's news
(news_2025_26.jsonl before April 2026), as a newsroom's archive would be, title and text only:
no section, no label, no id. The development sample's texts are left out, so that its scores
stay those of texts no model trained on, and so are the few that copy a held-out text. The corpus stays outside the repository: write the
feed outside it too.

    python experiments/today/make_feed.py ../shared/data/news_2025_26.jsonl FEED.jsonl
    nlpkit adapt --unlabeled FEED.jsonl --title-field title \\
        --config experiments/today/without-2025.toml \\
        --model experiments/results/today-without-2025/model \\
        --output experiments/results/today-adapted/model --results experiments/results/today-adapted
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nlpkit.corpus import is_heldout, read_corpus
from nlpkit.evaluate import read_labels

DEV = Path(__file__).resolve().parents[1] / "labels" / "dev.tsv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", help="news_2025_26.jsonl")
    parser.add_argument("out", help="the feed to write (JSON lines: title, text)")
    args = parser.parse_args()
    dev = read_labels(DEV)
    records = list(read_corpus(args.corpus))
    heldout = {(r.title, r.text) for r in records if is_heldout(r)}
    n = 0
    with open(args.out, "w", encoding="utf-8") as out:
        for record in records:
            if is_heldout(record) or record.id in dev or (record.title, record.text) in heldout:
                continue
            out.write(json.dumps({"title": record.title, "text": record.text}, ensure_ascii=False))
            out.write("\n")
            n += 1
    print(f"{n} texts written to {args.out}")


if __name__ == "__main__":
    main()
