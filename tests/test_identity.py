"""Identity embeddings: the SFace repair, 5-point alignment, embedders, Analyzer(embed=...)."""

import json

import numpy as np
import pytest

import facescan
from facescan import Analyzer, ConfigError, ModelError, registry
from facescan.align import ARCFACE_112, align_face, five_points, similarity_transform
from facescan.identity import DEFAULT_EMBEDDER, get_embedder
from facescan.identity.onnxwire import fields, repair
from facescan.identity.verify import CALIBRATIONS
from facescan.models import get_spec
from facescan.types import Face


@pytest.fixture(scope="module")
def sface():
    return get_embedder("sface")


def _lfw(root, name, i):
    return str(root / name / f"{name}_{i:04d}.jpg")


def test_repair_leaves_one_input_with_a_free_batch_and_keeps_the_weights():
    import onnxruntime as ort

    raw = get_spec("sface").verified_path().read_bytes()
    fixed = repair(raw)
    # the shipped graph cannot run: it asks for inputs nobody can feed
    with pytest.raises(ValueError, match="missing from input feed"):
        ort.InferenceSession(raw, providers=["CPUExecutionProvider"]).run(
            None, {"data": np.zeros((1, 3, 112, 112), np.float32)})
    session = ort.InferenceSession(fixed, providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape) for i in session.get_inputs()] == [("data", ["n", 3, 112, 112])]
    x = np.random.default_rng(0).integers(0, 256, (3, 3, 112, 112)).astype(np.float32)
    batch = session.run(None, {"data": x})[0]
    one = session.run(None, {"data": x[1:2]})[0]
    assert batch.shape == (3, 128) and np.abs(batch[1] - one[0]).max() < 1e-4
    # the initialisers (weights) are the shipped bytes
    graph = next(p for n, _, p, _ in fields(raw) if n == 7)
    graph2 = next(p for n, _, p, _ in fields(fixed) if n == 7)
    assert [r for n, _, _, r in fields(graph) if n == 5] == [r for n, _, _, r in fields(graph2) if n == 5]


def test_repair_refuses_what_is_no_onnx_model():
    with pytest.raises(ModelError):
        repair(b"\x0a\xff")  # a length beyond the end
    with pytest.raises(ModelError, match="no graph"):
        repair(b"\x08\x07")  # a ModelProto with an ir_version only


def test_similarity_transform_recovers_a_known_one():
    angle, scale, shift = 0.3, 1.7, np.array([5.0, -2.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = ARCFACE_112.astype(np.float64)
    m = similarity_transform(src, src @ rot.T + shift)
    assert np.allclose(m[:, :2], rot, atol=1e-6) and np.allclose(m[:, 2], shift, atol=1e-6)


def test_align_face_puts_the_landmarks_on_the_template():
    # five bright dots on a black image, placed by a rotated and scaled template
    rot = 2.5 * np.array([[np.cos(0.4), -np.sin(0.4)], [np.sin(0.4), np.cos(0.4)]])
    marks = ARCFACE_112 @ rot.T + np.array([200.0, 100.0])
    image = np.zeros((600, 600, 3), np.uint8)
    for x, y in marks:
        image[round(y) - 3:round(y) + 4, round(x) - 3:round(x) + 4] = 255
    crop = align_face(image, (0, 0, 600, 600), tuple(map(tuple, marks)))
    assert crop.shape == (112, 112, 3)
    for x, y in ARCFACE_112:  # each dot lands where the template puts it
        assert crop[round(y) - 1:round(y) + 2, round(x) - 1:round(x) + 2].mean() > 100


def test_faces_without_landmarks_get_them_from_the_box():
    points = five_points((10, 20, 110, 140), None)
    assert points.shape == (5, 2)
    assert 10 < points[:, 0].min() < points[:, 0].max() < 110 and 20 < points[:, 1].min() < 140
    assert points[0, 0] < points[1, 0] and points[0, 1] < points[2, 1] < points[3, 1]


def test_unknown_embedder_is_a_config_error():
    assert DEFAULT_EMBEDDER == registry.names("embedder")[0]
    with pytest.raises(ConfigError, match="did you mean 'sface'"):
        get_embedder("sfac")
    with pytest.raises(ConfigError, match="unknown embedding model"):
        Analyzer(embed="nope")


@pytest.mark.parametrize("model", ["sface", "sface-fast", "dlib"])
def test_embeddings_tell_people_apart_on_lfw(lfw_dir, model):
    from facescan.detect import make_detector
    from facescan.io import load_image

    if model == "dlib":
        pytest.importorskip("dlib", reason="the 'dlib' extra is not installed")
    embedder = get_embedder(model)
    detector = make_detector("yunet")
    paths = [_lfw(lfw_dir, "Abdullah_Gul", 14), _lfw(lfw_dir, "Abdullah_Gul", 15),
             _lfw(lfw_dir, "Aaron_Sorkin", 1)]
    vectors = []
    for path in paths:
        image = load_image(path)
        face = max(detector.detect(image), key=lambda d: d.score)
        vectors.append(embedder.embed(image, [Face(face.bbox, face.score, face.landmarks)])[0])
    v = np.stack(vectors)
    assert v.dtype == np.float32 and v.shape == (3, 128)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    same, different = 1 - v[0] @ v[1], 1 - v[0] @ v[2]
    threshold = CALIBRATIONS[model].threshold  # cosine distance: ~0.7 for sface, ~0.09 for dlib
    assert same < 0.7 * threshold and different > threshold


def test_sface_averages_the_face_and_its_mirror_image(sface, group_photo):
    from facescan.identity import normalise

    fast = get_embedder("sface-fast")
    image, _ = group_photo
    faces = facescan.analyze(image, attributes="gender")
    crops = sface.crops(image, faces)
    want = normalise(fast.embed_crops(crops) + fast.embed_crops(crops[:, :, ::-1].copy()))
    got = sface.embed(image, faces)
    assert np.abs(got - want).max() < 1e-5
    assert fast.name == "sface-fast" and np.abs(fast.embed_crops(crops) - got).max() > 1e-3


def test_embed_of_no_faces_is_empty(sface):
    assert sface.embed(np.zeros((50, 50, 3), np.uint8), []).shape == (0, 128)


def test_analyzer_fills_embeddings_and_records_carry_them(group_photo):
    image, places = group_photo
    faces = Analyzer(attributes="gender", embed=True).analyze(image)
    assert len(faces) == len(places)
    for face in faces:
        assert face.embedding_model == "sface" and face.embedding.shape == (128,)
        assert set(face.attributes) == {"gender"}
        record = face.to_dict()
        assert len(record["embedding"]) == 128 and record["embedding_model"] == "sface"
    e = np.stack([f.embedding for f in faces])
    assert np.all(e @ e.T - np.eye(len(faces)) < 0.7)  # four different people
    # without embed, records stay as they were
    assert "embedding" not in Face((0, 0, 1, 1), 1.0).to_dict()


def test_public_embed_gives_faces_without_attributes(group_photo):
    image, places = group_photo
    faces = facescan.embed(image)
    assert len(faces) == len(places)
    assert all(f.attributes == {} and f.embedding is not None for f in faces)
    again = facescan.embed(image, model="sface")
    assert np.allclose(again[0].embedding, faces[0].embedding)
    assert faces[0] == again[0]  # embeddings do not take part in equality


def test_cli_analyze_embed_writes_embeddings(group_photo, tmp_path):
    from PIL import Image

    from facescan.cli import main

    path = tmp_path / "group.jpg"
    Image.fromarray(group_photo[0]).save(path, quality=95)
    out = tmp_path / "out.jsonl"
    assert main(["analyze", str(path), "-o", str(out), "--embed", "-q", "--attributes", "age"]) == 0
    record = json.loads(out.read_text())
    assert all(len(f["embedding"]) == 128 and f["embedding_model"] == "sface" for f in record["faces"])
    assert main(["analyze", str(path), "--embed", "nope", "-q"]) == 2
