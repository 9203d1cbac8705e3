"""Read a TFLite file's ops and tensors (for the Edge TPU readiness check) without TensorFlow."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .ops import OpInfo


def count_subgraphs(data: bytes) -> int:
    """The number of subgraphs in a TFLite flatbuffer (``Model.subgraphs``, field 2 of the root table)."""
    import flatbuffers

    root = flatbuffers.encode.Get(flatbuffers.packer.uoffset, data, 0)
    table = flatbuffers.table.Table(bytearray(data), root)
    offset = table.Offset(4 + 2 * 2)
    return table.VectorLen(offset) if offset else 0


def read_graph(path: Path) -> tuple[list[OpInfo], int, list[str]]:
    """The ops of the main subgraph, the subgraph count, and the names of inputs of dynamic size."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    interpreter = Interpreter(
        model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    )
    tensors = {}

    def tensor(index: int) -> dict:
        if index not in tensors:
            tensors[index] = interpreter._get_tensor_details(int(index), 0)
        return tensors[index]

    ops = []
    for op in interpreter._get_ops_details():
        inputs = [tensor(i) for i in op["inputs"] if i >= 0]
        outputs = [tensor(i) for i in op["outputs"] if i >= 0]
        ops.append(
            OpInfo(
                index=int(op["index"]),
                name=op["op_name"],
                input_dtypes=[np.dtype(t["dtype"]).name for t in inputs],
                output_dtypes=[np.dtype(t["dtype"]).name for t in outputs],
                input_shapes=[[int(d) for d in t["shape_signature"]] for t in inputs],
                output_shapes=[[int(d) for d in t["shape_signature"]] for t in outputs],
            )
        )
    dynamic = [d["name"] for d in interpreter.get_input_details() if any(int(x) < 0 for x in d["shape_signature"])]
    return ops, count_subgraphs(path.read_bytes()), dynamic
