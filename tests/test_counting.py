"""`count_terms`: the terms of many texts counted as scikit-learn's `CountVectorizer` counts them."""

import pytest

from nlpkit.counting import count_terms
from nlpkit.features import TfidfFeatures


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("min_df, max_df", [(1, 1.0), (2, 1.0), (2, 0.5), (0.05, 0.9), (1, 3)])
def test_count_terms_counts_as_scikit_learn_does(ngram_range, min_df, max_df):
    import random

    from sklearn.feature_extraction.text import CountVectorizer

    from nlpkit.vocabulary import analyze

    rng = random.Random(hash((ngram_range, min_df, max_df)) & 0xFFFF)
    # Words, numbers, punctuation, segmented words, capitals and Greek final sigma.
    vocab = [f"w{i}" for i in range(60)] + ["12", ",", "A_b", "Đà_Nẵng", "x1", "ΣΑΣ", "İ"]
    for _ in range(5):
        texts = [
            " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30)))
            for _ in range(rng.randint(1, 40))
        ]
        counter = CountVectorizer(
            analyzer=lambda t: analyze(t, ngram_range), min_df=min_df, max_df=max_df
        )
        try:
            expected = counter.fit_transform(texts)
        except ValueError:  # no terms left: the same refusal
            with pytest.raises(ValueError):
                count_terms(texts, ngram_range, min_df, max_df)
            continue
        counts, terms = count_terms(texts, ngram_range, min_df, max_df)
        expected.sort_indices()
        assert terms.tolist() == counter.get_feature_names_out().tolist()
        assert counts.shape == expected.shape
        for name in ("indptr", "indices", "data"):
            assert getattr(counts, name).tolist() == getattr(expected, name).tolist()


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 2)])
@pytest.mark.parametrize("max_features", [1, 7, 40, 10_000])
def test_count_terms_chooses_the_most_frequent_terms_as_the_estimator_does(
    ngram_range, max_features
):
    # Counting with max_features keeps the columns that counting everything and then keeping
    # the most frequent (ties alphabetically) keeps: few words, so many ties at the cut.
    import random

    rng = random.Random(max_features)
    vocab = [f"w{i}" for i in range(25)] + ["Đà_Nẵng", "ΣΑΣ", "12", ","]
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 12))) for _ in range(30)]
    everything, all_terms = count_terms(texts, ngram_range, 2, 0.9)
    if everything.shape[1] > max_features:
        everything, all_terms = TfidfFeatures._most_frequent(everything, all_terms, max_features)
    counts, terms = count_terms(texts, ngram_range, 2, 0.9, max_features)
    assert terms.tolist() == all_terms.tolist()
    assert counts.shape[1] == min(max_features, everything.shape[1])
    counts.sort_indices()
    everything = everything.tocsr()
    everything.sort_indices()
    for name in ("indptr", "indices", "data"):
        assert getattr(counts, name).tolist() == getattr(everything, name).tolist()
