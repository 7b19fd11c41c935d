"""The whole pipeline on real faces (../shared/data) and on a composed multi-face photo."""

import json

import numpy as np
import pytest

import facescan
from facescan import Analyzer, ConfigError
from facescan.io import load_image
from facescan.labels import (
    AGE5,
    AGE9,
    APPEARANCE,
    EMOTION7,
    EMOTION8,
    GENDER,
    RACE_FAIRFACE7,
    age_group5,
    age_group9,
)

LABEL_SETS = {"gender": GENDER, "race": RACE_FAIRFACE7, "emotion": EMOTION8, "age": AGE9}


def _check_face(face, attributes=LABEL_SETS):
    for name, labels in attributes.items():
        pred = face.attributes[name]
        assert set(pred.probs) == set(labels)
        assert sum(pred.probs.values()) == pytest.approx(1.0, abs=1e-5)
        assert pred.label in labels and pred.score == pytest.approx(pred.probs[pred.label])
        if name != "age":  # the age label is the group of the stated years
            assert pred.score == pytest.approx(max(pred.probs.values()))
    age = face.attributes["age"]
    assert 0 <= age.years <= 100 and age.group5 in AGE5
    whole = int(age.years + 0.5)  # the groups of the years in whole years (19.6 -> 20 -> 20-29)
    assert age.label == age_group9(whole) and age.group5 == age_group5(whole)


def test_real_chips_have_all_attributes_and_mostly_right_gender(analyzer, utk_samples):
    results = list(analyzer.analyze_many([s.path for s in utk_samples], batch_size=8))
    assert [r.path for r in results] == [s.path for s in utk_samples]
    right = total = 0
    errors = []
    for result, sample in zip(results, utk_samples):
        assert result.error is None and len(result.faces) >= 1
        face = max(result.faces, key=lambda f: f.score)
        _check_face(face)
        right += face.attributes["gender"].label == sample.labels["gender"]
        errors.append(abs(face.attributes["age"].years - int(sample.labels["age"])))
        total += 1
    # development numbers are ~94% and MAE ~5 years: far from chance (50%, ~15 years)
    assert right / total >= 0.8
    assert np.mean(errors) <= 9


def test_group_photo_finds_every_pasted_face(analyzer, group_photo):
    canvas, places = group_photo
    faces = analyzer.analyze(canvas)
    assert len(faces) == len(places)
    for face, (x1, y1, x2, y2) in zip(faces, places):  # left-to-right order
        cx, cy = (face.bbox[0] + face.bbox[2]) / 2, (face.bbox[1] + face.bbox[3]) / 2
        assert x1 < cx < x2 and y1 < cy < y2
        assert len(face.landmarks) == 5
        _check_face(face)


def test_batched_equals_one_by_one(analyzer, utk_samples):
    """A batch's images are searched for faces in parallel threads; one image alone is not."""
    paths = [s.path for s in utk_samples[:6]]
    analyzer._detect_workers = 2
    batched = list(analyzer.analyze_many(paths, batch_size=6))
    for path, result in zip(paths, batched):
        single = analyzer.analyze(path)
        assert len(single) == len(result.faces)
        for a, b in zip(single, result.faces):
            assert a.bbox == b.bbox
            for name in a.attributes:
                assert a.attributes[name].probs == pytest.approx(b.attributes[name].probs, abs=1e-4)


def test_no_face_gives_empty_list_and_bad_input_an_error_record(analyzer, tmp_path):
    blank = np.full((300, 300, 3), 200, np.uint8)
    assert analyzer.analyze(blank) == []
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    results = list(analyzer.analyze_many([blank, str(tmp_path / "broken.jpg"), blank]))
    assert [r.error is None for r in results] == [True, False, True]
    assert "broken.jpg" in results[1].error
    json.dumps([r.to_dict() for r in results])  # serialisable


def test_if_no_face_whole_gives_the_whole_image_as_one_marked_face(analyzer, utk_samples):
    grey = np.full((120, 90, 3), 128, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (200, 300, 3), dtype=np.uint8)
    assert analyzer.analyze(grey) == [] and analyzer.analyze(noise) == []  # the default: "skip"
    results = list(Analyzer("gender,age", if_no_face="whole").analyze_many([grey, noise, utk_samples[0].path]))
    for result, (h, w) in zip(results[:2], [(120, 90), (200, 300)]):
        (face,) = result.faces
        assert face.bbox == (0.0, 0.0, float(w), float(h)) and face.score == 0.0 and face.landmarks is None
        assert face.found_by == "whole-image" and set(face.attributes) == {"gender", "age"}
        assert result.to_dict()["faces"][0]["found_by"] == "whole-image"
    (real,) = results[2].faces  # a face the detector finds is analysed as without the option
    assert real.found_by == "yunet" and real.score > 0.5 and len(real.landmarks) == 5
    assert [f.bbox for f in analyzer.analyze(utk_samples[0].path)] == [real.bbox]
    with pytest.raises(ConfigError, match="if_no_face must be one of skip, whole.*'crop'"):
        Analyzer(if_no_face="crop")


def test_if_no_face_per_call_on_one_analyzer(analyzer, utk_samples):
    grey = np.full((120, 90, 3), 128, np.uint8)
    sources = [grey, utk_samples[0].path]
    whole = list(analyzer.analyze_many(sources, if_no_face="whole"))
    assert [f.found_by for r in whole for f in r.faces] == ["whole-image", "yunet"]
    assert [len(r.faces) for r in analyzer.analyze_many(sources)] == [0, 1]  # the constructor's "skip" again
    assert [f.found_by for f in analyzer.analyze(grey, if_no_face="whole")] == ["whole-image"]
    (faces,), error = analyzer.analyze_batch([grey], if_no_face="whole")
    assert error is None and faces[0].attributes == whole[0].faces[0].attributes
    # the other way round: a "whole" Analyzer asked for "skip"
    assert Analyzer("gender", if_no_face="whole").analyze(grey, if_no_face="skip") == []
    with pytest.raises(ConfigError, match="if_no_face must be one of skip, whole.*'crop'"):
        analyzer.analyze(grey, if_no_face="crop")


def test_attribute_subset_and_whole_image_detector(fer_dir):
    path = next((fer_dir / "test" / "happy").glob("*.jpg"))
    only = Analyzer(attributes="emotion", detector="none")
    faces = only.analyze(path)
    assert len(faces) == 1 and list(faces[0].attributes) == ["emotion"]
    assert faces[0].bbox == (0.0, 0.0, 48.0, 48.0) and faces[0].found_by == "none"


def test_detects_tiny_fer_faces_by_upscaling(analyzer, fer_dir):
    paths = sorted((fer_dir / "test" / "neutral").glob("*.jpg"))[:10]
    found = sum(bool(analyzer.analyze(p)) for p in paths)
    assert found >= 8


def test_appearance_on_request_and_previous_default_kept(utk_samples, caplog):
    path = utk_samples[0].path
    face = Analyzer("gender,appearance").analyze(path)[0]
    looks = face.attributes["appearance"]
    assert list(face.attributes) == ["gender", "appearance"] and set(looks.probs) == set(APPEARANCE)
    assert all(0 <= p <= 1 for p in looks.probs.values()) and 0 < looks.score <= 1
    assert looks.label == ", ".join(k for k, p in looks.probs.items() if p >= 0.5) or looks.label == "none"
    v1 = Analyzer("emotion,appearance", backend="facescan-v1").analyze(path)[0]
    assert list(v1.attributes) == ["emotion"] and set(v1.attributes["emotion"].probs) == set(EMOTION7)
    assert "does not provide appearance" in caplog.text


def test_bad_options_raise_config_errors():
    with pytest.raises(ConfigError, match="attribute"):
        Analyzer(attributes="gender,height")
    with pytest.raises(ConfigError, match="backend"):
        Analyzer(backend="nope")
    with pytest.raises(ConfigError, match="detector"):
        Analyzer(detector="nope")


def test_one_shot_analyze_and_json(utk_samples):
    faces = facescan.analyze(load_image(utk_samples[0].path), attributes=["age"])
    record = faces[0].to_dict()
    assert list(record) == ["bbox", "score", "found_by", "landmarks", "attributes"]
    assert record["found_by"] == "yunet"
    assert set(record["attributes"]["age"]) == {"label", "years", "group5", "score", "probs"}


def test_abstain_below_marks_uncertain_but_keeps_distribution(utk_samples):
    path = utk_samples[0].path
    normal = Analyzer().analyze(path)[0]
    strict = Analyzer(abstain_below=1.0).analyze(path)[0]
    for name, pred in strict.attributes.items():
        assert pred.label == "uncertain"
        assert pred.probs == normal.attributes[name].probs and pred.score == normal.attributes[name].score
    with pytest.raises(ConfigError):
        Analyzer(abstain_below=1.5)


def test_abstain_below_is_checked_before_a_backend_loads_and_keeps_unparsed_answers():
    from facescan.types import Prediction

    # a bad threshold fails at once, not after (or instead of) loading a vision-language model
    with pytest.raises(ConfigError, match="abstain_below"):
        Analyzer(backend="paligemma:/no/such/checkpoint", abstain_below=1.5)
    analyzer = Analyzer("gender", detector="none", abstain_below=0.5)
    unparsed = Prediction("unparsed", 0.0, {}, raw="a person", unparsed=True)
    assert analyzer._maybe_abstain(unparsed) is unparsed
    assert analyzer._maybe_abstain(Prediction("male", 0.4, {"male": 0.4})).label == "uncertain"
