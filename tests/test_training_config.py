import re

import pytest
from conftest import ROOT

from nlpkit.training.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_config_defaults_and_name(tmp_path):
    cfg = load_config(write(tmp_path, "[features]\nmin_df = 3\n"))
    assert cfg["name"] == "exp" and cfg["features"]["min_df"] == 3
    assert cfg["features"]["ngram_range"] == [1, 2]


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour = 1\n", "unknown config key 'colour'"),
        ("[data]\nmax_chars = 200000000\n", "'data.max_chars' must be from 100 to 100,000,000"),
        ("[features]\nngrams = [1, 2]\n", "unknown config key 'features.ngrams'"),
        ("[features]\nmin_df = 'two'\n", "'features.min_df' must be int"),
        ("[features]\nsublinear_tf = 1\n", "'features.sublinear_tf' must be bool"),
        ("[features]\nrepeat_title = 'yes'\n", "'features.repeat_title' must be bool"),
        ("[features]\nngram_range = [2, 1]\n", "ngram_range"),
        ("[classifier]\nkind = 'forest'\n", "'classifier.kind' must be one of"),
        ("[classifier]\nsolver = 'sag'\n", "'classifier.solver' must be one of ('lbfgs', "),
        ("[classifier]\nC = -1\n", "'classifier.C' must be from 1e-06 to 1e+06, got -1"),
        ("features = 3\n", "'features' must be a table"),
        ("[data\n", "not valid TOML"),
        ("[data.weights]\nvntcc = 2.0\n", "'data.weights' names unknown dataset 'vntcc'"),
        ("[data.weights]\nvntc = -1\n", "'data.weights.vntc' must be from 1e-06 to 1e+06, got -1"),
        ("[features]\nmax_df = 5.0\n", "'features.max_df' must be a share in (0, 1]"),
        ("[features]\nmin_df = 0\n", "'features.min_df' must be a share in (0, 1]"),
        ("[features]\nmin_df = 0.6\nmax_df = 0.5\n", "must not be above"),
        ("n_jobs = -7\n", "'n_jobs' must be a number of processes (1 to 256), or 0 for the"),
        ("n_jobs = 1.5\n", "'n_jobs' must be int, got float"),
        ("n_jobs = 400\n", "'n_jobs' must be a number of processes (1 to 256)"),
        ("[classifier]\nC = 1e-320\n", "'classifier.C' must be from 1e-06 to 1e+06"),
        ("[classifier]\ntemperature = 1e308\n", "'classifier.temperature' must be 0"),
        ("[data]\nboundary_weight = 1e308\n", "'data.boundary_weight' must be from 1e-06 to"),
        ("[data]\nboundary_weight = 1e-300\n", "'data.boundary_weight' must be from 1e-06 to"),
        ("[data]\ntitle_weight = -1\n", "'data.title_weight' must be 0 (none) or from 1e-06"),
        ("[data.weights]\nvntc = 1e-9\n", "'data.weights.vntc' must be from 1e-06 to 1e+06"),
        ("[data.weights]\nvntc = 'x'\n", "'data.weights.vntc' must be a number, got 'x'"),
        (
            "[data.weights]\nsnippets = nan\n",
            "'data.weights.snippets' must be from 1e-06 to 1e+06, got nan",
        ),
        (
            '[data]\ncorpora = ["c.jsonl"]\ntrain_files = ["typo.jsonl"]\n',
            "'data.train_files' names 'typo.jsonl', which data.corpora does not read",
        ),
        ('n_jobs = "two"\n', "'n_jobs' must be int, got str"),
        ("[data]\ndatasets = ['vntc', 'reddit']\n", "unknown dataset 'reddit'"),
        ("[data]\ndatasets = []\n", "at least one dataset"),
        ("[classifier]\nclass_weight = 'even'\n", "'classifier.class_weight' must be"),
        ("[data]\ncleanup_threshold = 1.5\n", "'data.cleanup_threshold' must be within"),
        ("[data]\ntrain_files = ['other.jsonl']\n", "'data.train_files' names 'other.jsonl'"),
        ("[data]\nwithout_functions = ['abroadd']\n", "names unknown function 'abroadd'"),
        ("[data]\nout_of_scope = 'keep'\n", "must be drop, class or detector, got 'keep'"),
        (
            "[data]\ncorpora = [1]\n",
            "'data.corpora' must be a list of str, got int 1 at position 1",
        ),
        ("[data]\nsnippets = ['a', true]\n", "'data.snippets' must be a list of str, got bool"),
        ("[features]\nngram_range = [1, 2.0]\n", "'features.ngram_range' must be a list of int"),
        ("seed = 1.5\n", "'seed' must be int, got float 1.5"),
        ("[classifier]\ntol = 1.5\n", "'classifier.tol' must be within [0, 1), got 1.5"),
        ("cv = 3.0\n", "'cv' must be int, got float 3.0"),
        ("[classifier]\nC = nan\n", "'classifier.C' must be finite"),
        ("[classifier]\nnone_offset = -1.5\n", "needs 'data.out_of_scope' class or detector"),
        ("[classifier]\nnb_blend = -0.3\n", "'classifier.nb_blend' must be 0 (none) or positive"),
        (
            "[classifier]\nkind = 'linear_svc'\nnb_blend = 0.3\n",
            "'classifier.nb_blend' is for logistic_regression's probabilities",
        ),
        ("[classifier]\nnb_alpha = 0\n", "'classifier.nb_alpha' must be positive"),
        (
            "[data]\ndev_labels = []\n[classifier]\ntune_temperature = true\n",
            "'classifier.tune_temperature' needs a development sample (data.dev_labels)",
        ),
        ("[classifier]\ntemperature = -1\n", "'classifier.temperature' must be 0 (the"),
        ("[classifier]\ntune_temperature = 1\n", "'classifier.tune_temperature' must be bool"),
        (
            "[data]\nout_of_scope = 'detector'\n[classifier]\nkind = 'linear_svc'\n",
            "detector needs 'classifier.kind' logistic_regression",
        ),
    ],
)
def test_bad_configs_get_clear_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(write(tmp_path, text))


def test_config_errors_name_the_line(tmp_path):
    with pytest.raises(ConfigError, match=r"exp.toml:3: unknown config key 'data.colour'"):
        load_config(write(tmp_path, "seed = 1\n[data]\ncolour = 'red'\n"))


def test_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="config not found"):
        load_config(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="cannot read config .*: Is a directory"):
        load_config(tmp_path)


@pytest.mark.parametrize("path", sorted((ROOT / "experiments").rglob("*.toml")))
def test_repository_configs_load(path):
    load_config(path)


def test_whole_numbers_stand_for_floats_and_shares_for_counts(tmp_path):
    cfg = load_config(write(tmp_path, "[classifier]\nC = 3\n[features]\nmin_df = 0.01\n"))
    assert cfg["classifier"]["C"] == 3 and cfg["features"]["min_df"] == 0.01


def test_make_config_checks_what_it_is_given():
    from nlpkit.training.config import OWN_DATA, make_config

    cfg = make_config(OWN_DATA)
    # A run on one's own data reads no corpus and none of the repository's label files.
    assert cfg["data"]["files"] == [] and cfg["data"]["dev_labels"] == []
    with pytest.raises(ConfigError, match="'seed' must be int"):
        make_config({"seed": 0.5})
