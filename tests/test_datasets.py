"""Readers: real files from ../shared/data where they exist, and tiny fixtures written here in
each data set's exact published format (images written with PIL) for the rest."""

import csv
import logging

import numpy as np
import pytest
from PIL import Image

from facescan.datasets import DATASETS, open_dataset, read_lfw_pairs
from facescan.errors import ConfigError
from facescan.labels import EMOTION7, EMOTION8


def _jpg(path, seed=0, size=48, grey=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 255, (size, size) if grey else (size, size, 3), dtype=np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _csv(path, header, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fp:
        w = csv.writer(fp)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_utkface_real_split_and_skipped_count(utkface_dir):
    every = open_dataset(f"utkface:{utkface_dir}")
    test = open_dataset(f"utkface:{utkface_dir}", "test")
    assert every.skipped.get("malformed file name", 0) >= 1  # the published set has such names
    assert test.skipped == every.skipped and 0 < len(test) < len(every) / 5
    assert [s.id for s in test] == sorted(s.id for s in test)
    assert test.label_sets["race"] == "utk5"


def test_utkface_malformed_names_are_counted_and_warned(tmp_path, caplog):
    for name in ("25_0_1_20170116174525125.jpg.chip.jpg", "3_1_4_20170103.jpg", "bad_name.jpg",
                 "39_1_20170116174525125.jpg.chip.jpg"):
        _jpg(tmp_path / name)
    with caplog.at_level(logging.WARNING):
        ds = open_dataset(f"utkface:{tmp_path}")
    assert len(ds) == 2 and ds.skipped == {"malformed file name": 2}
    assert "skipped 2" in caplog.text
    assert ds[0].labels == {"age": 25, "gender": "male", "race": "black"}


def test_fer2013_real_folders(fer_dir):
    test = open_dataset(f"fer2013:{fer_dir}")
    assert len(test) == 3589 and {s.labels["emotion"] for s in test} == set(EMOTION7)
    assert test.split == "test" and all(s.id.startswith("test/") for s in test)


def test_fer2013_csv_pixels_decoded_in_memory(tmp_path):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 256, 48 * 48) for _ in range(4)]
    rows = [(3, " ".join(map(str, images[0])), "Training"), (0, " ".join(map(str, images[1])), "PublicTest"),
            (6, " ".join(map(str, images[2])), "PublicTest"), (5, " ".join(map(str, images[3])), "PrivateTest"),
            (2, "1 2 3", "PublicTest")]  # truncated pixels: skipped and counted
    path = _csv(tmp_path / "fer2013.csv", ["emotion", "pixels", "Usage"], rows)
    test = open_dataset(f"fer2013:{tmp_path}")
    assert [s.labels["emotion"] for s in test] == ["angry", "neutral"]
    assert test.skipped == {"unreadable row (label not 0-6 or not 48x48 pixels)": 1}
    assert test[0].path == "" and test[0].image.shape == (48, 48)
    assert np.array_equal(test[0].source, images[1].reshape(48, 48))
    assert [s.labels["emotion"] for s in open_dataset(f"fer2013:{path}", "train")] == ["happy"]
    assert len(open_dataset(f"fer2013:{path}", "private")) == 1 and len(open_dataset(f"fer2013:{path}", "all")) == 4


def _fairface(root):
    rows = [("train/1.jpg", "50-59", "Male", "East Asian", "True"),
            ("train/2.jpg", "more than 70", "Female", "Latino_Hispanic", "False"),
            ("val/1.jpg", "3-9", "Female", "Middle Eastern", "False"),
            ("val/2.jpg", "20-29", "Male", "Southeast Asian", "True"),
            ("val/3.jpg", "30-39", "Male", "Martian", "True"),  # unknown race: skipped
            ("val/4.jpg", "0-2", "Female", "White", "True")]  # image missing: skipped
    header = ["file", "age", "gender", "race", "service_test"]
    _csv(root / "fairface_label_train.csv", header, [r for r in rows if r[0].startswith("train")])
    _csv(root / "fairface_label_val.csv", header, [r for r in rows if r[0].startswith("val")])
    for i, r in enumerate(rows[:5]):
        _jpg(root / r[0], i)


def test_fairface_layout(tmp_path):
    _fairface(tmp_path)
    val = open_dataset(f"fairface:{tmp_path}")
    assert val.split == "val" and [s.id for s in val] == ["val/1.jpg", "val/2.jpg"]
    assert val[0].labels == {"gender": "female", "race": "middle_eastern", "age_group": "3-9", "service_test": False}
    assert val.skipped == {"unknown gender, race or age label": 1, "image file missing": 1}
    train = open_dataset(f"fairface:{tmp_path}", "train")
    assert [s.labels["age_group"] for s in train] == ["50-59", "70+"]
    assert train[1].labels["race"] == "latino_hispanic" and train.label_sets["race"] == "fairface7"
    with pytest.raises(ConfigError, match="split"):
        open_dataset(f"fairface:{tmp_path}", "test")


AFFECTNET_HEADER = ["subDirectory_filePath", "face_x", "face_y", "face_width", "face_height",
                    "facial_landmarks", "expression", "valence", "arousal"]


def test_affectnet_csv_layout_skips_non_emotions(tmp_path):
    rows = []
    for expr in range(11):
        rel = f"{expr + 1}/img{expr:02d}.jpg"
        _jpg(tmp_path / "Manually_Annotated_Images" / rel, expr)
        rows.append((rel, 10, 10, 30, 30, "1;2;3", expr, 0.1, -0.2))
    rows.append(("9/missing.jpg", 0, 0, 1, 1, "", 1, 0, 0))
    _csv(tmp_path / "validation.csv", AFFECTNET_HEADER, rows)
    ds = open_dataset(f"affectnet:{tmp_path}")
    assert [s.labels["emotion"] for s in ds] == list(EMOTION8)  # ids 0-7 in order
    assert ds.skipped == {"expression none": 1, "expression uncertain": 1, "expression non-face": 1,
                          "image file missing": 1}
    assert ds.label_sets == {"emotion": "affectnet8"}


def test_affectnet_folder_layout(tmp_path):
    for i, name in enumerate(("anger", "contempt", "happy", "8")):
        _jpg(tmp_path / "val" / name / f"{i}.jpg", i)
    _jpg(tmp_path / "train" / "sad" / "x.jpg")
    ds = open_dataset(f"affectnet:{tmp_path}")
    assert sorted(s.labels["emotion"] for s in ds) == ["angry", "contempt", "happy"]
    assert ds.skipped == {"expression none": 1}
    assert [s.labels["emotion"] for s in open_dataset(f"affectnet:{tmp_path}", "train")] == ["sad"]


def test_rafdb_basic_layout(tmp_path):
    lines = [f"train_{i:05d}.jpg {i}" for i in range(1, 8)] + ["test_0001.jpg 4", "test_0002.jpg 9"]
    (tmp_path / "EmoLabel").mkdir()
    (tmp_path / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    for line in lines:
        stem = line.split()[0][:-4]
        _jpg(tmp_path / "Image" / "aligned" / f"{stem}_aligned.jpg", size=100)
    train = open_dataset(f"rafdb:{tmp_path}", "train")
    assert [s.labels["emotion"] for s in train] == ["surprise", "fear", "disgust", "happy", "sad",
                                                    "angry", "neutral"]
    assert train[0].path.endswith("Image/aligned/train_00001_aligned.jpg")
    test = open_dataset(f"rafdb:{tmp_path}")
    assert [s.labels["emotion"] for s in test] == ["happy"] and sum(test.skipped.values()) == 1


def test_ckplus_published_layout_and_protocols(tmp_path):
    # CK+: cohn-kanade-images/S/NNN/frames, Emotion/S/NNN/<last frame>_emotion.txt (1-7, as published:
    # one float per file); a sequence without a label file is not a sample
    sequences = {("S005", "001"): (4, " 3.0000000e+00\n"), ("S010", "002"): (5, " 2.0000000e+00\n"),
                 ("S011", "001"): (3, "   7.0000000e+00\n"), ("S014", "003"): (2, None), ("S022", "001"): (3, "x")}
    for (subject, seq), (n, label) in sequences.items():
        for i in range(1, n + 1):
            _jpg(tmp_path / "cohn-kanade-images" / subject / seq / f"{subject}_{seq}_{i:08d}.png", seed=i, grey=True)
        if label is not None:
            target = tmp_path / "Emotion" / subject / seq / f"{subject}_{seq}_{n:08d}_emotion.txt"
            target.parent.mkdir(parents=True)
            target.write_text(label)
    peak = open_dataset(f"ckplus:{tmp_path}")
    assert [(s.id, s.labels["emotion"]) for s in peak] == [
        ("S005/001/S005_001_00000004.png", "disgust"), ("S010/002/S010_002_00000005.png", "contempt"),
        ("S011/001/S011_001_00000003.png", "surprise")]
    assert peak.label_sets == {"emotion": "affectnet8"} and peak.skipped == {
        "unreadable label file (expected one number 1-7)": 1}
    last3 = open_dataset(f"ckplus:{tmp_path}", "last3")
    assert len(last3) == 9 and {s.labels["emotion"] for s in last3 if s.id.startswith("S005")} == {"disgust"}
    neutral = open_dataset(f"ckplus:{tmp_path}", "neutral")
    assert [s.labels["emotion"] for s in neutral if s.id.startswith("S011")] == ["neutral", "surprise"]
    assert [s.labels["emotion"] for s in open_dataset(f"ckplus:{tmp_path}", "peak6")] == ["disgust", "surprise"]
    with pytest.raises(ConfigError, match="Emotion/"):
        open_dataset(f"ckplus:{tmp_path / 'cohn-kanade-images'}")
    with pytest.raises(ConfigError, match="peak, last3"):
        open_dataset(f"ckplus:{tmp_path}", "test")


def test_lfw_pairs_real_and_not_samples(lfw_dir, tmp_path):
    lfw = lfw_dir
    assert "lfw" not in DATASETS  # pairs, not labelled samples
    pairs = read_lfw_pairs(lfw)
    assert len(pairs) == 1800 and sum(p.same for p in pairs) == 900
    assert {p.fold for p in pairs} == {0, 1, 2} and pairs[0].same and not pairs[-1].same
    assert all((lfw / p.path_a.split("/")[-2]).is_dir() for p in pairs[:50])
    assert all(Image.open(p.path_b).size == (250, 250) for p in pairs[:5])
    with pytest.raises(ConfigError, match="1800 pairs.*identity embedders"):  # eval scores it (test_verify)
        open_dataset(f"lfw:{lfw}")
    (tmp_path / "pairs.txt").write_text("1\t1\nA\t1\t2\nB\t1\n")
    with pytest.raises(ConfigError, match="line 3"):
        read_lfw_pairs(tmp_path)


def test_generic_csv_convention_and_columns(tmp_path):
    for i in range(4):
        _jpg(tmp_path / "img" / f"{i}.png", i)
    _csv(tmp_path / "labels.csv", ["path", "gender", "race", "age", "split"],
         [("img/0.png", "Male", "East Asian", "31", "test"), ("img/1.png", "F", "White", "4.5", "test"),
          ("img/2.png", "female", "Black", "", "train"), ("img/9.png", "male", "Indian", "50", "test")])
    ds = open_dataset(f"csv:{tmp_path / 'labels.csv'}", "test")
    assert ds.label_sets == {"gender": "gender", "race": "fairface7"}  # east_asian: FairFace's set
    assert [s.labels for s in ds] == [{"gender": "male", "race": "east_asian", "age": 31.0},
                                      {"gender": "female", "race": "white", "age": 4.5}]
    assert ds.skipped == {"image file missing": 1}
    _csv(tmp_path / "other.csv", ["img", "expr"], [("img/0.png", "Anger"), ("img/1.png", "contempt")])
    ds = open_dataset(f"csv:{tmp_path / 'other.csv'}", columns={"path": "img", "emotion": "expr"})
    assert [s.labels["emotion"] for s in ds] == ["angry", "contempt"] and ds.label_sets["emotion"] == "affectnet8"
    with pytest.raises(ConfigError, match="no image column"):
        open_dataset(f"csv:{tmp_path / 'other.csv'}")
    _csv(tmp_path / "bad.csv", ["path", "emotion"], [("img/0.png", "bored")])
    with pytest.raises(ConfigError, match="fit no label set"):
        open_dataset(f"csv:{tmp_path / 'bad.csv'}")


def test_generic_csv_bad_age_is_skipped_once(tmp_path):
    _jpg(tmp_path / "0.png")
    _csv(tmp_path / "labels.csv", ["path", "gender", "age"], [("0.png", "male", "old"), ("0.png", "female", "30")])
    ds = open_dataset(f"csv:{tmp_path / 'labels.csv'}")
    assert len(ds) == 1 and ds.skipped == {"age is not a number": 1}


def test_generic_csv_without_rows_reports_its_columns(tmp_path):
    _csv(tmp_path / "empty.csv", ["img", "gender"], [])
    with pytest.raises(ConfigError, match=r"columns are \['img', 'gender'\]"):
        open_dataset(f"csv:{tmp_path / 'empty.csv'}")


def test_generic_folder_per_class(tmp_path):
    for i, name in enumerate(("happy", "Sad", "neutral")):
        _jpg(tmp_path / "test" / name / f"{i}.jpg", i)
    ds = open_dataset(f"folder:{tmp_path}", "test")
    assert ds.label_sets == {"emotion": "fer7"} and sorted(s.labels["emotion"] for s in ds) == [
        "happy", "neutral", "sad"]
    with pytest.raises(ConfigError, match="fit no known label set"):
        open_dataset(f"folder:{tmp_path}")  # train/test are no classes


def test_unknown_kinds_and_splits(tmp_path):
    for bad in ("fairface", "nope:/x", f"affectnet:{tmp_path}"):
        with pytest.raises(ConfigError):
            open_dataset(bad)
    with pytest.raises(ConfigError, match="only"):
        open_dataset(f"utkface:{tmp_path}", columns={"path": "x"})
