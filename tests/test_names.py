from nlpkit.names import KINDS, describe, name_kinds


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
