"""Readers of the in-the-wild sets: CelebA, All-Age-Faces and FER+ (votes), on the real files
in ../shared/data and on tiny copies of their published layouts with broken lines."""

import csv

import numpy as np
import pytest
from PIL import Image

from facescan.datasets import open_dataset
from facescan.datasets.ferplus import ferplus_truth
from facescan.errors import ConfigError
from facescan.labels import EMOTION8


def _img(path, size=(40, 48)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((size[1], size[0], 3), np.uint8)).save(path)


def test_celeba_real_splits_are_disjoint_and_labelled(celeba_dir):
    parts = {s: open_dataset(f"celeba:{celeba_dir}", s) for s in ("train", "val", "test")}
    ids = [{s.id for s in d} for d in parts.values()]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])
    assert sum(map(len, parts.values())) == len(open_dataset(f"celeba:{celeba_dir}", "all")) == 8011
    sample = parts["test"][0]
    assert sample.labels["gender"] in ("male", "female")
    assert sample.labels["gender"] == ("male" if sample.labels["appearance"]["male"] else "female")
    assert {"eyeglasses", "wearing_hat", "no_beard", "blond_hair"} <= set(sample.labels["appearance"])


def test_celeba_layout_with_partition_and_bad_lines(tmp_path):
    header = "Eyeglasses Male No_Beard"
    rows = ["000001.jpg  1 -1  1", "000002.jpg -1  1 -1", "000003.jpg 1 2 1", "000004.jpg 1 1"]
    (tmp_path / "list_attr_celeba.txt").write_text("\n".join(["4", header, *rows]) + "\n")
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 2\n")
    for i in (1, 2, 3):
        _img(tmp_path / "img_align_celeba" / f"00000{i}.jpg")
    test = open_dataset(f"celeba:{tmp_path}", "test")
    assert [s.id for s in test] == ["000002.jpg"] and test[0].labels["gender"] == "male"
    assert test.skipped == {"malformed line (expected a file name and 3 values of 1/-1)": 2}
    train = open_dataset(f"celeba:{tmp_path}", "train")
    assert train[0].labels["appearance"] == {"eyeglasses": True, "male": False, "no_beard": True}


def test_aaf_real_published_splits(aaf_dir):
    val = open_dataset(f"aaf:{aaf_dir}")  # default: the published val split
    train = open_dataset(f"aaf:{aaf_dir}", "train")
    assert len(val) == 5336 and len(train) == 5269 and not ({s.id for s in val} & {s.id for s in train})
    ages = [s.labels["age"] for s in val]
    assert min(ages) == 2 and max(ages) >= 70
    s = next(x for x in val if x.id == "00001A02.jpg")
    assert s.labels == {"gender": "female", "age": 2, "age_group": "0-2"}


def test_aaf_layout_skips_bad_lines(tmp_path):
    root = tmp_path / "All-Age-Faces Dataset"
    (root / "image sets").mkdir(parents=True)
    (root / "image sets" / "val.txt").write_text("00001A35.jpg 1\nbroken\n00002A07.jpg 3\n00003A50.jpg 0\n")
    _img(root / "original images" / "00001A35.jpg")
    ds = open_dataset(f"aaf:{tmp_path}", "val")  # the parent folder works too
    assert [(s.id, s.labels["gender"], s.labels["age"]) for s in ds] == [("00001A35.jpg", "male", 35)]
    assert ds.skipped == {"malformed line (expected 'NNNNNAxx.jpg 0|1')": 2, "image missing": 1}
    with pytest.raises(ConfigError, match="split"):
        open_dataset(f"aaf:{tmp_path}", "test")


def test_ferplus_majority_protocol():
    # FER+ columns: neutral, happiness, surprise, sadness, anger, disgust, fear, contempt, unknown, NF
    assert ferplus_truth([4, 0, 0, 4, 2, 0, 0, 0, 0, 0])[0] == "neutral"  # tie: the earlier column
    assert ferplus_truth([0, 0, 0, 0, 0, 0, 0, 0, 6, 4])[0] is None  # unknown majority: dropped
    label, votes = ferplus_truth([1, 0, 0, 0, 6, 3, 0, 0, 0, 0])
    assert label == "angry" and dict(zip(EMOTION8, votes)) == {
        "neutral": 1, "happy": 0, "sad": 0, "surprise": 0, "fear": 0, "disgust": 3, "angry": 6, "contempt": 0}


def test_ferplus_real_both_layouts_agree(fer_dir, ferplus_dir):
    votes = open_dataset(f"ferplus:{fer_dir}")  # FER2013 folders + ferplus_votes.csv, PublicTest
    layout = open_dataset(f"ferplus:{ferplus_dir}")  # FER+'s own layout (600 Valid rows here)
    assert len(votes) > 3500 and votes.label_sets == {"emotion": "affectnet8"}
    assert 590 <= len(layout) <= 600 and layout.skipped.get("majority unknown or not a face", 0) >= 1
    # the same faces carry the same labels in both forms
    with open(fer_dir / "ferplus_votes.csv", newline="") as fp:
        rows = {r["ferplus_file"].split("/")[-1]: r["file"] for r in csv.DictReader(fp)}
    by_file = {s.id: s.labels["emotion"] for s in votes}
    matched = [(s.labels["emotion"], by_file[rows[s.id.split("/")[-1]]]) for s in layout
               if rows.get(s.id.split("/")[-1]) in by_file]
    assert len(matched) > 500 and all(a == b for a, b in matched)


def test_ferplus_layout_errors(tmp_path):
    with pytest.raises(ConfigError, match="FER2013Valid"):
        open_dataset(f"ferplus:{tmp_path}")
    folder = tmp_path / "FER2013Valid"
    folder.mkdir()
    with open(folder / "label.csv", "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(["a.png", "(0, 0, 48, 48)", 9, 1, 0, 0, 0, 0, 0, 0, 0, 0])
        w.writerow(["b.png", "(0, 0, 48, 48)", "x"])
        w.writerow(["c.png", "(0, 0, 48, 48)", 9, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    _img(folder / "a.png", (48, 48))
    ds = open_dataset(f"ferplus:{folder}")
    assert [s.labels["emotion"] for s in ds] == ["neutral"]
    assert ds.skipped == {"malformed row (expected name, box and 10 vote counts)": 1, "image missing": 1}
