"""The public API with the shipped model: what a user gets right after `pip install`."""

import pytest
from conftest import SEED_TITLES, SEEDS

import nlpkit
from nlpkit import compiled
from nlpkit.pages import read_page


@pytest.mark.parametrize("title, topic", list(SEED_TITLES.items()))
def test_shipped_model_files_every_seed_title_right(title, topic):
    assert nlpkit.predict(title) == topic


def test_shipped_model_files_both_seed_articles_right():
    pages = [read_page(p) for p in SEEDS]
    assert nlpkit.predict([p.text for p in pages]) == ["geopolitics", "geopolitics"]


def test_shipped_model_files_related_snippets_with_their_leads_right():
    # Title + lead, as news lists show them.
    snippets = read_page(SEEDS[1]).related
    assert nlpkit.predict([s.text for s in snippets]) == [SEED_TITLES[s.title] for s in snippets]


def test_module_functions_load_the_default_model_once():
    nlpkit.predict("Giá điện tăng")
    first = nlpkit._default
    nlpkit.predict_proba(["Giá điện tăng"])
    assert nlpkit._default is first and first.topics == nlpkit.TOPICS


def test_api_shapes():
    probs = nlpkit.predict_proba("Giá xăng dầu tăng mạnh")
    assert set(probs) == set(nlpkit.TOPICS) and sum(probs.values()) == pytest.approx(1)
    assert isinstance(nlpkit.predict_proba(["a b", "c d"]), list)
    exp = nlpkit.explain("Giá xăng dầu tăng mạnh", k=5)
    assert exp.topic == "energy" and len(exp.terms) == 5
    assert nlpkit.segment("Tổng thống Nga") == "Tổng_thống Nga"
    assert isinstance(nlpkit.__version__, str)


def test_module_functions_take_n_jobs():
    texts = [title for title in SEED_TITLES] * 250  # enough to go parallel
    assert nlpkit.predict(texts, n_jobs=2) == nlpkit.predict(texts)
    assert nlpkit.predict_proba(texts[:3], n_jobs=2) == nlpkit.predict_proba(texts[:3])


def test_load_returns_a_predictor():
    predictor = nlpkit.load()
    assert isinstance(predictor, nlpkit.Predictor)
    assert predictor.predict("Đội tuyển bóng đá Việt Nam thắng") == "sports"


def test_readme_examples_work_from_the_repository_root():
    # From the root, the source folder shadows the installed package: the shipped model must
    # be found in the checkout's models/ folder then.
    import subprocess
    import sys

    from conftest import ROOT

    code = "import nlpkit; print(nlpkit.predict('Giá xăng tăng'), nlpkit.load().topics[0])"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["energy", "geopolitics"]
    result = subprocess.run(
        [sys.executable, "-m", "nlpkit", "predict", "Tuyển Việt Nam thắng Thái Lan"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and result.stdout == "sports\n"


def test_shipped_model_is_found_in_a_checkout_when_the_package_has_no_models(monkeypatch, tmp_path):
    # From a checkout's root the source folder shadows the installed package, and the source
    # folder has no nlpkit/models: the model is then the checkout's top-level models/default.
    import importlib.util

    from nlpkit import modelfile

    def find_spec(name, *args):
        return None if name == "nlpkit.models" else real(name, *args)

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(modelfile, "__file__", str(tmp_path / "nlpkit" / "modelfile.py"))
    assert modelfile.default_model_path() == tmp_path / "models" / "default"


def _fresh(code: str, **env: str) -> list[str]:
    """What a fresh interpreter prints, run outside the checkout (whose source folder would
    shadow the installed package)."""
    import os
    import subprocess
    import sys
    import tempfile

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={**os.environ, **env}, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    return out.stdout.split()


@pytest.mark.parametrize("pure", ["", "1"])
def test_import_loads_nothing_heavy_and_prediction_needs_no_scikit_learn(pure):
    # `import nlpkit` imports no numpy, model or compiled core; predicting (either path)
    # imports no scikit-learn. Startup time itself is measured in BENCHMARKS.md, not here.
    code = (
        "import sys, nlpkit\n"
        "print(*(m in sys.modules for m in ('numpy', 'sklearn', 'nlpkit.predictor')))\n"
        "assert nlpkit.predict('Giá xăng tăng') == 'energy'\n"
        "print('sklearn' in sys.modules)"
    )
    assert _fresh(code, NLPKIT_PURE=pure) == ["False", "False", "False", "False"]


@pytest.mark.skipif(compiled.core is None, reason="the compiled core is not built here")
def test_a_prediction_on_the_compiled_core_needs_no_numpy():
    # numpy alone takes longer to import than loading the model and answering: the first
    # prediction's time depends on its staying out. Probabilities import it (softmax).
    code = (
        "import sys, nlpkit\n"
        "print(nlpkit.predict('Giá xăng tăng 500 đồng'), nlpkit.predict(['Tuyển Việt Nam thắng']))\n"
        "print('numpy' in sys.modules)\n"
        "print(max(nlpkit.predict_proba('Giá xăng tăng 500 đồng').items(), key=lambda kv: kv[1])[0])"
    )
    assert _fresh(code) == ["energy", "['sports']", "False", "energy"]


@pytest.mark.skipif(compiled.core is None, reason="the compiled core is not built here")
def test_a_compiled_core_of_another_version_is_not_used():
    # An extension left over from an older install must not be called with new arguments.
    code = "import nlpkit._core as c; c.ABI = -1; from nlpkit import compiled; print(compiled.describe())"
    out = " ".join(_fresh(code))
    assert out.startswith("pure Python: the compiled core is of another version")


def test_lazy_names():
    assert nlpkit.Predictor.__name__ == "Predictor" and issubclass(nlpkit.ModelError, Exception)
    assert {"Predictor", "Explanation", "ModelError", "predict"} <= set(dir(nlpkit))
    with pytest.raises(AttributeError):
        _ = nlpkit.no_such_name


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, [True]])
def test_allow_none_must_be_true_or_false(value):
    predictor = nlpkit.load()
    for call in (
        lambda: nlpkit.predict("Giá xăng tăng", allow_none=value),
        lambda: nlpkit.predict("Giá xăng tăng", 1, value),  # positional: the core's own method
        lambda: predictor.predict(["Giá xăng tăng"], 1, value),
        lambda: nlpkit.predict_proba("Giá xăng tăng", allow_none=value),
        lambda: nlpkit.explain("Giá xăng tăng", allow_none=value),
    ):
        with pytest.raises(TypeError, match=r"allow_none must be True or False, got"):
            call()


def test_predictor_flags_must_be_true_or_false():
    from nlpkit.predictor import Predictor

    predictor = nlpkit.load()
    with pytest.raises(TypeError, match="none must be True or False"):
        Predictor(
            predictor._tfidf, predictor.coef, predictor.intercept, predictor.topics, none="yes"
        )
    with pytest.raises(TypeError, match="segment must be True or False"):
        predictor.segment = "no"


def test_public_functions_say_what_they_return():
    import typing

    from nlpkit.predictor import _python_predict

    for function in (nlpkit.predict, nlpkit.predict_proba, nlpkit.explain, nlpkit.load,
                     _python_predict, nlpkit.Predictor.predict_proba, nlpkit.Predictor.explain):  # fmt: skip
        assert "return" in function.__annotations__, function.__name__
    hints = typing.get_type_hints(nlpkit.predict_proba)
    assert hints["return"] == dict[str, float] | list[dict[str, float]]
