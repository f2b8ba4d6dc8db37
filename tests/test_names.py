import numpy as np
import scipy.sparse as sp

from nlpkit.features import TfidfFeatures
from nlpkit.names import KINDS, KindFeatures, describe, name_kinds


def test_names_of_each_kind_as_the_features_spell_them():
    kinds = name_kinds()
    assert set(kinds.values()) == set(KINDS)
    assert kinds["los_angeles"] == "foreign_place"
    assert kinds["hàn_quốc"] == "foreign_state"
    assert kinds["liên_hợp_quốc"] == "international_body"
    assert kinds["quảng_ninh"] == "vietnamese_place"
    assert kinds["tổng_thống"] == "foreign_office"
    assert kinds["tổng_bí_thư"] == "vietnamese_office"
    # Names that are also words or Vietnamese names say nothing sure.
    assert "anh" not in kinds and "mỹ" not in kinds
    assert describe("los_angeles") == "a foreign city or region" and describe("giá") is None


def test_kind_columns_fold_back_into_the_terms_weights():
    texts = ["tổng_thống hội_đàm tại los_angeles", "giá xăng tại quảng_ninh", "giá điện tăng"]
    features = TfidfFeatures(min_df=1)
    X = features.fit_transform(texts, keep_terms=tuple(name_kinds()))
    kinds = KindFeatures(features.terms_, features.idf_)
    wide = kinds.transform(X)
    assert wide.shape == (3, len(features.terms_) + len(KINDS))
    coef = np.random.default_rng(0).normal(size=(2, wide.shape[1]))
    # The folded weights score the plain rows as the wide weights score the wide rows, for a
    # text with a name the training texts never had too.
    new = features.transform(["tổng_thống thăm california"])
    for rows in (X, new):
        assert np.allclose(kinds.transform(rows) @ coef.T, rows @ kinds.fold(coef).T)
    assert kinds.transform(new)[0, len(features.terms_) + kinds.kinds.index("foreign_place")] > 0
    assert sp.issparse(wide)
