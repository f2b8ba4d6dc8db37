import unicodedata

import pytest

import nlpkit
from nlpkit.serve.api import explanation_json
from nlpkit.serve.highlight import highlights


def covered(text, spans):
    return [(text[s["start"] : s["end"]], s["terms"], pytest.approx(s["weight"])) for s in spans]


def test_segmented_words_and_pairs_are_found_in_the_text_as_typed():
    text = "TỔNG THỐNG Nga,  Putin: tuyên bố\nTổng thống Pháp"
    spans = highlights(text, [("tổng_thống", 2.0), ("nga putin", 0.5), ("tuyên_bố", -1.0)])
    assert covered(text, spans) == [
        ("TỔNG THỐNG", ["tổng_thống"], 2.0),
        # The pair spans the punctuation the features drop.
        ("Nga,  Putin", ["nga putin"], 0.5),
        ("tuyên bố", ["tuyên_bố"], -1.0),
        ("Tổng thống", ["tổng_thống"], 2.0),
    ]


def test_a_word_inside_a_listed_pair_carries_both_weights():
    text = "giá điện tăng"
    spans = highlights(text, [("điện", 1.0), ("giá điện", 0.25)])
    assert covered(text, spans) == [
        ("giá ", ["giá điện"], 0.25),
        ("điện", ["điện", "giá điện"], 1.25),
    ]


def test_whole_words_only_and_any_unicode_form():
    decomposed = unicodedata.normalize("NFD", "Điện lực")
    spans = highlights("thủy điện, " + decomposed, [("điện", 1.0)])
    assert [("thủy điện, " + decomposed)[s["start"] : s["end"]] for s in spans] == [
        "điện",
        decomposed[: decomposed.index(" ")],
    ]
    # Not inside a longer word; nothing for a term the text does not have.
    assert highlights("điệnthoại", [("điện", 1.0)]) == []
    assert highlights("giá điện", [("khí_đốt", 1.0), ("", 1.0)]) == []
    assert highlights("", [("điện", 1.0)]) == []


def test_a_dateline_glued_to_the_first_word_is_cut_off_it_as_the_model_reads_it():
    text = "HÀ NỘIPhó chủ tịch Tổng liên đoàn"
    spans = highlights(text, [("phó_chủ_tịch", 1.0), ("hà_nội", 0.5)])
    assert covered(text, spans) == [
        ("HÀ NỘI", ["hà_nội"], 0.5),
        ("Phó chủ tịch", ["phó_chủ_tịch"], 1.0),
    ]


def test_only_what_the_model_reads_is_highlighted():
    text = "Giá  xăng   tăng.\n\n" + "Giá xăng giảm. " * 10
    spans = highlights(text, [("xăng", 1.0)], max_chars=30)
    # The first 30 characters once normalised ("Giá xăng tăng.\nGiá xăng giảm. G"): two.
    assert [s["start"] for s in spans] == [5, 23]
    assert len(highlights(text, [("xăng", 1.0)])) == 11


def test_offsets_count_code_points_as_the_page_does():
    text = "🔥 Giá xăng tăng"  # an emoji is one code point (two UTF-16 units)
    (span,) = highlights(text, [("xăng", 1.0)])
    assert (span["start"], span["end"]) == (6, 10)


def test_explanation_json_keeps_every_field_and_highlights_every_list_of_terms():
    text = "Tổng thống Nga Putin tuyên bố ưu tiên thỏa thuận với phương Tây"
    explanation = nlpkit.explain(text, k=4)
    out = explanation_json(explanation, text)
    assert {k: v for k, v in out.items() if k != "highlights"} == explanation.to_dict()
    listed = {t for t, _ in explanation.terms} | {t for t, _ in explanation.against}
    assert {t for h in out["highlights"] for t in h["terms"]} == listed


def test_terms_against_the_answer_are_highlighted_against_it():
    class WithAgainst:
        def to_dict(self):
            return {
                "topic": "energy",
                "terms": [{"term": "xăng", "weight": 2.0}],
                "against": [{"term": "bóng_đá", "weight": 0.7}],
            }

    out = explanation_json(WithAgainst(), "Giá xăng và bóng đá")
    assert [(h["terms"], h["weight"]) for h in out["highlights"]] == [
        (["xăng"], 2.0),
        (["bóng_đá"], -0.7),
    ]


def test_a_word_with_an_invisible_character_inside_is_found_whole():
    # Text preparation removes soft hyphens and zero-width marks: the model reads "xăng".
    text = "Giá x\u00adăng và t\u200bhuế"
    spans = highlights(text, [("xăng", 1.0), ("thuế", 0.5)])
    assert covered(text, spans) == [("x\u00adăng", ["xăng"], 1.0), ("t\u200bhuế", ["thuế"], 0.5)]


def _pieces_by_brute_force(covered):
    # (each piece between two cuts, against every range: what the sweep must give)
    cuts = sorted({c for start, end, _, _ in covered for c in (start, end)})
    spans = []
    for start, end in zip(cuts, cuts[1:]):
        over = {t: w for s, e, t, w in covered if s <= start and end <= e}
        if not over:
            continue
        names, weight = list(over), sum(over.values())
        last = spans[-1] if spans else None
        if last and last["end"] == start and last["terms"] == names:
            last["end"] = end
        else:
            spans.append({"start": start, "end": end, "weight": weight, "terms": names})
    return spans


def test_the_sweep_gives_what_every_piece_against_every_range_gives():
    import random

    from nlpkit.serve.highlight import _pieces

    rng = random.Random(0)
    for _ in range(300):
        terms = [(f"t{i}", rng.uniform(-2, 2)) for i in range(rng.randint(1, 6))]
        covered = []
        for term, weight in terms:  # (ranges term by term, as highlights makes them)
            for _ in range(rng.randint(1, 5)):
                start = rng.randint(0, 40)
                covered.append((start, start + rng.randint(1, 12), term, weight))
        assert _pieces(covered) == _pieces_by_brute_force(covered)
    # And a text that repeats its terms: thousands of ranges, quickly.
    text = "Giá điện tăng " * 300
    spans = highlights(text, [("giá điện", 1.0), ("điện", 0.5), ("tăng giá", -0.25)])
    # Four spans a repetition (its "Giá" read with the "tăng" before it, the space, "điện",
    # "tăng"), but for the first one's "Giá " (no "tăng" before it) and the last "tăng" (no
    # "Giá" after it).
    assert len(spans) == 4 * 300 - 2
    assert spans[3] == {"start": 14, "end": 17, "weight": 0.75, "terms": ["giá điện", "tăng giá"]}


def test_a_pair_across_a_bare_number_is_found_as_the_features_read_it():
    # The features drop bare numbers: "gần 163 triệu" holds the pair "gần triệu".
    text = "Giá gần 163 triệu, top 10 thương hiệu và Covid-19"
    terms = [("gần triệu", 1.0), ("top thương_hiệu", 0.5), ("covid-19", 0.25), ("giá triệu", 9.0)]
    assert covered(text, highlights(text, terms)) == [
        ("gần 163 triệu", ["gần triệu"], 1.0),
        ("top 10 thương hiệu", ["top thương_hiệu"], 0.5),
        ("Covid-19", ["covid-19"], 0.25),
    ]


def test_words_written_as_html_references_are_highlighted_where_they_are_written():
    text = "Gi&#225; x&#259;ng &amp;amp; M&#7929; &nbsp;Nga"
    spans = highlights(text, [("giá xăng", 1.0), ("mỹ", 0.5), ("nga", -0.5)])
    assert covered(text, spans) == [
        ("Gi&#225; x&#259;ng", ["giá xăng"], 1.0),
        ("M&#7929;", ["mỹ"], 0.5),
        ("Nga", ["nga"], -0.5),
    ]
    # Every term the model lists for such a text is found in it.
    predictor = nlpkit.load()
    explanation = predictor.explain(text, k=10)
    terms = [(t["term"], t["weight"]) for t in explanation.to_dict()["terms"]]
    found = {name for span in highlights(text, terms) for name in span["terms"]}
    assert found == {term for term, _ in terms}


def test_the_part_the_model_reads_is_never_cut_inside_a_reference():
    # A prefix cut inside "&#259;" read its rest ("25") as a word of its own, which made the
    # model's last word, cut short, go unhighlighted.
    text = "a " * 2498 + "&shy;" * 1000 + "x&#259;ng " + "Nga " * 100
    spans = highlights(text, [("xăng", 1.0)], max_chars=5000)
    assert [text[s["start"] : s["end"]] for s in spans] == ["x&#259;ng"]
    assert covered("&shy; x&#259;ng ", highlights("&shy; x&#259;ng ", [("xăng", 1.0)], 5)) == [
        ("x&#259;ng", ["xăng"], 1.0)
    ]
    # A text the model reads nothing of has nothing to highlight (explain refuses it first).
    assert highlights("&#8203; &amp;nbsp;\n", [("x", 1.0)], 20) == []
