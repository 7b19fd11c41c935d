"""The stacked model: SFace's conversion, the logistic stack and the composed ONNX graph."""

import numpy as np
import pytest

pytest.importorskip("onnx", reason="building the stacked model needs the 'train' extra")
pytest.importorskip("sklearn", reason="building the stacked model needs the 'train' extra")

from facescan.models import get_spec
from facescan.train import stack


def _crops(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 112, 112, 3), dtype=np.uint8)


def test_sface_float_matches_the_int8_graph():
    import onnx

    path = get_spec("sface").verified_path()
    raw = stack.drop_unused_inputs(onnx.load(str(path)))  # the shipped int8 graph, unused inputs removed
    x = np.ascontiguousarray(_crops(1).astype(np.float32).transpose(0, 3, 1, 2))  # its batch size is 1
    want = stack.session(raw.SerializeToString()).run(None, {"data": x})[0]
    converted = stack.sface_float(path)
    assert not any(n.op_type == "DequantizeLinear" for n in converted.graph.node)
    got = stack.session(converted.SerializeToString()).run(None, {"data": x})[0]
    assert got.shape == (1, 128) and np.abs(got - want).max() < 1e-4


def test_fit_gives_the_logistic_regression_as_one_linear_map():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    x = rng.normal(3, 2, (300, 5))
    y = (x[:, 0] + rng.normal(0, 1, 300) > 3).astype(int)
    w, b, info = stack.fit(x[:200], y[:200], x[200:], y[200:], grid=(0.1,))
    assert w.shape == (2, 5) and info["C"] == 0.1
    mu, sd = x[:200].mean(0), x[:200].std(0) + 1e-6
    clf = LogisticRegression(C=0.1, max_iter=5000).fit((x[:200] - mu) / sd, y[:200])
    logits = x[200:] @ w.T + b
    assert np.allclose(logits[:, 1] - logits[:, 0], clf.decision_function((x[200:] - mu) / sd), atol=1e-3)


def test_composed_graph_equals_its_parts(tmp_path):
    base = get_spec("facescan-utkface-finetuned")
    sface = stack.sface_float(get_spec("sface").verified_path())
    rng = np.random.default_rng(2)
    heads = {"gender": (rng.normal(size=(2, 130)).astype(np.float32), rng.normal(size=2).astype(np.float32)),
             "race": (rng.normal(size=(5, 133)).astype(np.float32), rng.normal(size=5).astype(np.float32))}
    out = tmp_path / "stacked.onnx"
    stack.compose(base.verified_path(), sface, heads, base.mean, base.scale, out)
    crops = _crops()
    parts, emb = stack.features(stack.sessions(base.verified_path(), sface), crops, base.mean, base.scale)
    x = np.ascontiguousarray(((crops.astype(np.float32) - np.float32(base.mean)) * base.scale).transpose(0, 3, 1, 2))
    got = dict(zip(["gender", "race", "age"], stack.session(out.read_bytes()).run(
        ["gender", "race", "age"], {"crops": x})))
    np.testing.assert_allclose(got["age"], parts["age"], atol=1e-5)  # age passes through
    for attr, (w, b) in heads.items():  # float16 storage of SFace's weights: small differences
        np.testing.assert_allclose(got[attr], stack.stack_input(parts[attr], emb) @ w.T + b, atol=0.05)
