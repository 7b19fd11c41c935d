import pytest

from facescan.labels import (
    AGE5,
    AGE9,
    FAIRFACE7_TO_UTK5,
    RACE_FAIRFACE7,
    RACE_UTK5,
    age9_to_age5,
    age_group5,
    age_group9,
)


@pytest.mark.parametrize("years,g9,g5", [
    (0, "0-2", "0-9"), (2.9, "0-2", "0-9"), (3, "3-9", "0-9"), (9.99, "3-9", "0-9"),
    (10, "10-19", "10-19"), (19.5, "10-19", "10-19"), (20, "20-29", "20-39"), (39, "30-39", "20-39"),
    (40, "40-49", "40-59"), (59.9, "50-59", "40-59"), (60, "60-69", "60+"), (70, "70+", "60+"),
    (116, "70+", "60+"),
])
def test_age_groups(years, g9, g5):
    assert age_group9(years) == g9
    assert age_group5(years) == g5


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_age_group_rejects_bad_years(bad):
    with pytest.raises(ValueError):
        age_group9(bad)


def test_age9_to_age5_agrees_with_years():
    for years in range(100):
        assert age9_to_age5(age_group9(years)) == age_group5(years)
    assert {age9_to_age5(g) for g in AGE9} == set(AGE5)


def test_fairface_to_utk_mapping_is_total_and_lands_in_utk():
    assert set(FAIRFACE7_TO_UTK5) == set(RACE_FAIRFACE7)
    assert set(FAIRFACE7_TO_UTK5.values()) == set(RACE_UTK5)
    assert FAIRFACE7_TO_UTK5["east_asian"] == FAIRFACE7_TO_UTK5["southeast_asian"] == "asian"


def test_mapping_tables_are_total_and_land_in_their_targets():
    from facescan.labels import LABEL_SETS, MAPPINGS

    for (source, target), table in MAPPINGS.items():
        assert set(table) == set(LABEL_SETS[source]), (source, target)
        assert {v for v in table.values() if v is not None} <= set(LABEL_SETS[target]), (source, target)


def test_race_tables_compose():
    from facescan.labels import FAIRFACE7_TO_FAIRFACE6, FAIRFACE7_TO_RACE4, RACE4, UTK5_TO_RACE4

    for race in RACE_FAIRFACE7:
        assert FAIRFACE7_TO_RACE4[race] == UTK5_TO_RACE4[FAIRFACE7_TO_UTK5[race]]
    assert FAIRFACE7_TO_FAIRFACE6["southeast_asian"] == "asian" == FAIRFACE7_TO_RACE4["east_asian"]
    assert {v for v in UTK5_TO_RACE4.values() if v} == set(RACE4) and UTK5_TO_RACE4["others"] is None


def test_age_tables_agree_with_years():
    from facescan.labels import AGE9_TO_AGE5, FAIRFACE_AGE_NAMES

    for years in range(110):
        assert AGE9_TO_AGE5[age_group9(years)] == age_group5(years)
    assert AGE9_TO_AGE5 == {g: age9_to_age5(g) for g in AGE9}
    assert list(FAIRFACE_AGE_NAMES.values()) == list(AGE9) and FAIRFACE_AGE_NAMES["more than 70"] == "70+"


def test_emotion_tables():
    from facescan.labels import (
        AFFECTNET8_TO_FER7,
        AFFECTNET_IDS,
        AFFECTNET_SKIPPED_IDS,
        EMOTION7,
        EMOTION8,
        FER7_TO_AFFECTNET8,
        RAFDB7_TO_FER7,
    )

    assert [AFFECTNET_IDS[i] for i in range(8)] == list(EMOTION8) and set(AFFECTNET_SKIPPED_IDS) == {8, 9, 10}
    assert sorted(RAFDB7_TO_FER7.values()) == sorted(EMOTION7) and RAFDB7_TO_FER7[4] == "happy"
    assert AFFECTNET8_TO_FER7["contempt"] is None
    for e in EMOTION7:  # the 7 shared classes go both ways unchanged
        assert AFFECTNET8_TO_FER7[FER7_TO_AFFECTNET8[e]] == e


def test_fairface_spellings_and_label_set_names():
    from facescan.labels import FAIRFACE_RACE_NAMES, label_set_of

    assert sorted(FAIRFACE_RACE_NAMES.values()) == sorted(RACE_FAIRFACE7)
    assert label_set_of(list(reversed(RACE_UTK5))) == "utk5" and label_set_of(["x"]) is None
