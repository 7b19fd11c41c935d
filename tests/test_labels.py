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
