from nlpkit.card import compare_era_table


def _scores(macro: float, n: int) -> dict:
    return {
        "n": n,
        "macro_f1": macro,
        "accuracy": macro,
        "per_label": {t: {"f1": macro} for t in ("geopolitics", "energy", "none")},
    }


def test_the_era_table_reads_one_eras_figures():
    heldout = {
        key: {"by_era": {"2025-26": _scores(0.9, 813), "2005-2007": _scores(0.5, 292)}}
        for key in ("hand", "hand_none", "hand_title_only")
    }
    run = {"name": "r", "heldout": heldout, "dev": {"hand": {"by_era": {}}}}
    rows = compare_era_table([run], "2025-26").splitlines()
    assert rows[0].startswith("| run | dev macro-F1 |") and len(rows) == 3
    # The era's figures, a dash where the run has none (its dev sample has no such era).
    assert rows[2] == "| r | – | – | 0.900 | 0.900 | 0.900 | 0.900 | 0.900 | 0.900 | 813 |"
    assert "| 0.500 |" in compare_era_table([run], "2005-2007")
