"""The pieces of the FairFace-trained default: the dev/fit split of FairFace train, race as a
set of allowed FairFace races, age groups as year intervals, in-the-wild augmentation, and
race phrases that score with a 7-race model."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from facescan.datasets import Sample, open_dataset
from facescan.datasets.fairface import dev_indices
from facescan.labels import AGE9, GENDER, RACE_FAIRFACE7


def _samples(n: int) -> list[Sample]:
    rng = np.random.default_rng(0)
    return [Sample(f"train/{i}.jpg", f"/x/{i}.jpg", {"race": RACE_FAIRFACE7[rng.integers(7)],
                                                      "gender": GENDER[rng.integers(2)], "age_group": AGE9[rng.integers(9)]})
            for i in range(n)]


def test_dev_split_is_a_stratified_tenth_and_stable():
    samples = _samples(5000)
    dev = dev_indices(samples)
    assert 450 <= len(dev) <= 520 and dev == sorted(set(dev))
    assert dev_indices(list(reversed(samples))) == sorted(len(samples) - 1 - i for i in dev)  # by name, not order
    for race in RACE_FAIRFACE7:  # every race about a tenth
        members = [i for i, s in enumerate(samples) if s.labels["race"] == race]
        share = len(set(members) & set(dev)) / len(members)
        assert 0.07 < share < 0.13, race


def test_fairface_dev_and_fit_splits_of_the_shared_photos():
    from conftest import _data_dir

    root = _data_dir("fairface")
    train, dev, fit = (open_dataset(f"fairface:{root}", s) for s in ("train", "dev", "fit"))
    assert len(train) == 200 and len(dev) + len(fit) == 200 and len(dev) > 0
    assert not {s.id for s in dev} & {s.id for s in fit}


def test_race_loss_takes_a_set_of_races_and_age_loss_an_interval():
    from facescan.train.multitask import _set_nll, losses

    asian = torch.zeros(1, 7)
    asian[0, [RACE_FAIRFACE7.index("east_asian"), RACE_FAIRFACE7.index("southeast_asian")]] = 1
    southeast = torch.full((1, 7), -10.0)
    southeast[0, RACE_FAIRFACE7.index("southeast_asian")] = 10.0
    assert float(_set_nll(southeast, asian)) < 1e-6  # "asian" is right as Southeast Asian
    white = torch.zeros(1, 7)
    white[0, 0] = 1
    assert float(_set_nll(southeast, white)) > 15

    age = torch.full((2, 101), -10.0)
    age[0, 25] = 10.0  # 25 years: inside 20-29
    age[1, 45] = 10.0  # 45: outside
    n = 2
    targets = {"gender": torch.full((n,), -1), "race": torch.zeros(n, 7),
               "age": torch.tensor([[20.0, 29.0], [20.0, 29.0]]), "emotion": torch.zeros(n, 8),
               "appearance": torch.full((n, 12), float("nan"))}
    out = (torch.zeros(n, 2), torch.zeros(n, 7), age, torch.zeros(n, 8), torch.zeros(n, 12))
    parts = losses(out, targets)
    assert set(parts) == {"age_group"} and float(parts["age_group"]) > 5
    parts = losses((out[0], out[1], age[:1].repeat(2, 1), out[3], out[4]), targets)
    assert float(parts["age_group"]) < 1e-6


def test_part_metrics_count_a_race_in_the_allowed_set_and_age_groups_as_labelled():
    from facescan.train.multidata import Part
    from facescan.train.multitask import part_metrics

    n = 3
    race = np.zeros((n, 7), np.float32)
    race[0, [3, 4]] = 1  # asian
    race[1, 0] = 1  # white
    race[2, 6] = 1  # middle eastern
    r = np.full((n, 7), -5.0)
    r[0, 4], r[1, 0], r[2, 0] = 5, 5, 5  # southeast asian (right), white (right), white (wrong)
    age = np.array([[20, 29], [3, 9], [30, 30]], np.float32)
    a = np.full((n, 101), -20.0)
    a[0, 24], a[1, 12], a[2, 33] = 20, 20, 20
    part = Part("x", [np.zeros((n, 8, 8, 3), np.uint8)], np.array([0, 1, -1]), race, age,
                np.zeros((n, 8), np.float32), np.full((n, 12), np.nan, np.float32))
    m = part_metrics((np.array([[2.0, 0], [2, 0], [0, 0]]), r, a, np.zeros((n, 8)), np.zeros((n, 12))), part)
    assert m["race"] == pytest.approx(2 / 3) and m["age9"] == pytest.approx(0.5)
    assert m["age_mae"] == pytest.approx(3.0, abs=0.01) and m["gender"] == 0.5
    assert m["male_recall"] == 1.0 and m["female_recall"] == 0.0


def test_augmentation_repeats_with_its_seed_and_changes_the_crops():
    from facescan.train.augment import augment, jpeg
    from facescan.train.multitask import to_input

    rng = np.random.default_rng(0)
    crops = rng.integers(0, 255, (16, 112, 112, 3), dtype=np.uint8)
    a = augment(to_input(crops), torch.Generator().manual_seed(1))
    b = augment(to_input(crops), torch.Generator().manual_seed(1))
    assert a.shape == (16, 3, 112, 112) and torch.equal(a, b) and torch.isfinite(a).all()
    assert not torch.allclose(a, to_input(crops))
    squeezed = jpeg(crops, np.random.default_rng(2), share=0.5)
    changed = [not np.array_equal(x, y) for x, y in zip(crops, squeezed)]
    assert 2 <= sum(changed) <= 14 and squeezed.dtype == np.uint8


def test_race_phrases_score_with_a_seven_race_model():
    from facescan.target.parse import parse_description
    from facescan.target.score import Physical, attribute_score
    from facescan.types import Face, Prediction

    probs = dict.fromkeys(RACE_FAIRFACE7, 0.0) | {"east_asian": 0.6, "southeast_asian": 0.3, "white": 0.1}
    face = Face((0, 0, 10, 10), 1.0, attributes={"race": Prediction("east_asian", 0.6, probs)})
    scores = {}
    for text in ("the chinese man", "the asian man", "the white man"):
        c = next(c for c in parse_description(text).constraints if c.kind == "race")
        scores[text] = attribute_score(c, face, Physical({}, {}, 0.5, 1, 1.0, None, None))
    assert scores == pytest.approx({"the chinese man": 0.6, "the asian man": 0.9, "the white man": 0.1})
