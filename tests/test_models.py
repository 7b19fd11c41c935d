import dataclasses
from pathlib import Path

import numpy as np
import pytest

import facescan.models
from facescan.attributes import OnnxAttributeModel, decode_head
from facescan.errors import ConfigError, ModelError
from facescan.models import Head, all_specs, get_spec


def test_every_model_is_described_and_verifies():
    import importlib.util

    for spec in all_specs():
        assert spec.licence and spec.source and spec.training_data and spec.card
        assert (Path(facescan.models.__file__).parent / "cards" / spec.card).is_file(), spec.card
        if spec.extra and importlib.util.find_spec(spec.package) is None:
            continue  # an optional extra that is not installed here
        assert spec.verified_path().is_file()
        if spec.task == "attributes":
            assert spec.heads and spec.input_size > 0 and spec.crop


def test_sha256_mismatch_is_refused():
    spec = dataclasses.replace(get_spec("fer-mini-xception"), sha256="0" * 64)
    with pytest.raises(ModelError, match="sha256"):
        OnnxAttributeModel(spec)


def test_missing_package_and_file_are_clear():
    with pytest.raises(ModelError, match="not installed"):
        dataclasses.replace(get_spec("yunet"), package="no_such_pkg_xyz").locate()
    with pytest.raises(ModelError, match=r"not installed: pip install 'facescan\[dlib\]'"):
        dataclasses.replace(get_spec("dlib-resnet"), package="no_such_pkg_xyz").locate()
    with pytest.raises(ModelError, match="missing"):
        dataclasses.replace(get_spec("yunet"), path="models/nothing.onnx").locate()
    with pytest.raises(ConfigError, match="did you mean 'yunet'"):
        get_spec("yunett")


def test_age_bins_decode_to_years_and_consistent_groups():
    head = Head("age", "age", "age_bins", tuple(str(i) for i in range(101)))
    logits = np.full((3, 101), -50.0)
    logits[0, 25] = 0.0  # all mass on 25 years
    logits[1, [65, 75]] = 0.0  # half on 65, half on 75
    logits[2, [12, 35, 36]] = np.log([0.45, 0.3, 0.25])  # most probable group 10-19, median 35
    a, b, c = decode_head(head, logits)
    assert a.years == pytest.approx(25, abs=1e-6) and a.label == "20-29" and a.group5 == "20-39"
    assert 65 <= b.years <= 75 and b.group5 == "60+"
    assert b.probs["60-69"] == pytest.approx(0.5) and b.probs["70+"] == pytest.approx(0.5)
    assert c.years == pytest.approx(34.5 + 0.05 / 0.3, abs=1e-6)
    # the labels are the years' groups, never a group that contradicts them
    assert (c.label, c.group5, c.score) == ("30-39", "20-39", pytest.approx(0.55))
    assert c.probs["10-19"] == pytest.approx(0.45)
    # a median of 19.6 years is printed as 20y: its group is 20-29, the group of bin 20
    logits = np.full((1, 101), -50.0)
    logits[0, [19, 20]] = np.log([0.4, 0.6])
    d = decode_head(head, logits)[0]
    assert 19.5 < d.years < 20 and f"{d.years:.0f}" == "20" and (d.label, d.group5) == ("20-29", "20-39")
    assert d.score == pytest.approx(0.6)


def test_softmax_head_and_temperature():
    head = Head("gender", "g", "softmax", ("male", "female"))
    sharp = decode_head(head, np.array([[2.0, 0.0]]))[0]
    soft = decode_head(dataclasses.replace(head, temperature=4.0), np.array([[2.0, 0.0]]))[0]
    assert sharp.label == soft.label == "male"
    assert 0.5 < soft.score < sharp.score < 1


def test_gray_preprocessing_matches_spec():
    model = OnnxAttributeModel(get_spec("fer-mini-xception"))
    crops = np.zeros((1, 64, 64, 3), np.uint8)
    crops[..., 0] = 255  # pure red -> luma 76.2
    x = model.preprocess(crops)
    assert x.shape == (1, 1, 64, 64)
    assert x[0, 0, 0, 0] == pytest.approx((0.299 * 255 - 127.5) / 127.5, abs=1e-4)


def test_years_head_spreads_a_laplace_over_age_groups():
    head = Head("age", "age", "years", spread=5.0)
    young, edge, old = decode_head(head, np.array([[4.0], [29.4], [95.0]]))
    assert young.label == "3-9" and young.group5 == "0-9" and young.years == 4.0
    assert sum(young.probs.values()) == pytest.approx(1.0)
    # groups of whole years: 29.4 is 29 (20-29), 29.5 would be 30, and the masses split there
    assert edge.label == "20-29" and edge.probs["30-39"] == pytest.approx(edge.probs["20-29"], abs=0.05)
    assert edge.probs["20-29"] > edge.probs["30-39"]
    above = decode_head(head, np.array([[29.6]]))[0]
    assert above.label == "30-39" and above.probs["30-39"] > above.probs["20-29"]
    assert old.probs["70+"] > 0.99 and old.group5 == "60+"


def test_third_party_backends_provide_what_they_have(utk_samples):
    from facescan import Analyzer

    faceapi = Analyzer(backend="faceapi")  # asks for all four, gets gender and age
    assert faceapi.attributes == ("gender", "age")
    face = faceapi.analyze(utk_samples[0].path)[0]
    assert set(face.attributes) == {"gender", "age"} and face.attributes["age"].years > 0
    with pytest.raises(ConfigError, match="provides none"):
        Analyzer(backend="fer", attributes="age")


def test_flip_averages_each_face_with_its_mirror_image():
    """The default reads each crop and its mirror image and averages the two answers'
    probabilities; facescan-fast (the same file) reads it once."""
    default, fast = OnnxAttributeModel(get_spec("facescan-multitask")), OnnxAttributeModel(get_spec("facescan-multitask-fast"))
    assert default.flip and not fast.flip and default.spec.sha256 == fast.spec.sha256
    rng = np.random.default_rng(0)
    crops = rng.integers(0, 256, (OnnxAttributeModel.chunk + 3, 112, 112, 3), dtype=np.uint8)  # two chunks
    attrs = ("gender", "age", "appearance")
    both = default.predict(crops, attrs)
    plain, mirrored = fast.predict(crops, attrs), fast.predict(np.ascontiguousarray(crops[:, :, ::-1]), attrs)
    for b, p, m in zip(both, plain, mirrored):
        for attr in ("gender", "appearance"):
            for label, q in b[attr].probs.items():
                assert q == pytest.approx((p[attr].probs[label] + m[attr].probs[label]) / 2, abs=2e-3)
        assert b["age"].probs["20-29"] == pytest.approx((p["age"].probs["20-29"] + m["age"].probs["20-29"]) / 2, abs=2e-3)
    assert any(abs(b["gender"].score - p["gender"].score) > 1e-3 for b, p in zip(both, plain))
