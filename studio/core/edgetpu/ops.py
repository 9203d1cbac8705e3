"""Which TFLite ops the Coral Edge TPU can run, and a pre-flight check of a TFLite graph.

Source: Coral, "TensorFlow models on the Edge TPU", https://coral.ai/docs/edgetpu/models-intro/ —
"Model requirements" and "Supported operations" (Table 1, ops and known limitations; the per-op
minimum runtime versions are left out: the current runtime, 14+, has them all). The table was read
through copies of that page: Axis's reproduction for ARTPEC-7, whose accelerator is an Edge TPU
(https://developer.axis.com/computer-vision/on-device/system-on-chip/artpec-7/supported-ops/, rows
Add to ResizeBilinear), and an older copy of Coral's table (github.com/dgist-datalab/Datalab_Intern,
Edge_TPU/convert_model_for_Edge_TPU.md) for the limits of ResizeNearestNeighbor, Softmax, Squeeze and
StridedSlice. No limit text could be checked for Rsqrt, Split, Sum, Squared-difference, Transpose and
TransposeConv, so theirs is empty. Coral's model requirements, as checked by :func:`check_readiness`:
tensors are 8-bit quantized (int8/uint8; int32 biases), tensor sizes are constant at compile time,
tensors have at most 3 dimensions larger than 1 (the innermost), only ops of the table are used,
and the model has one subgraph. Without ``-a`` the compiler makes one Edge TPU subgraph: from the
first op it cannot map on, everything runs on the CPU even when supported (Coral's compiler docs;
google-coral/edgetpu#461). Float-in/float-out models start with QUANTIZE and end with DEQUANTIZE:
those run on the CPU by design and are reported as such, not as problems.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

_POOL = "No fused activation function."
_RESIZE = ("Input/output is a 3-dimensional tensor. Depending on input/output size, this operation might "
           "not be mapped to the Edge TPU to avoid loss in precision.")
_BATCH = "Cannot operate on the batch dimension."
_LSTM = "Unidirectional LSTM only."

SUPPORTED_OPS: dict[str, str] = {
    "ADD": "",
    "AVERAGE_POOL_2D": _POOL,
    "CONCATENATION": _POOL + " If any input is a compile-time constant tensor, there must be only 2 inputs, and "
                             "this constant tensor must be all zeros (effectively, a zero-padding op).",
    "CONV_2D": "Must use the same dilation in x and y dimensions.",
    "DEPTHWISE_CONV_2D": "Must use the same dilation in x and y dimensions.",
    "EXPAND_DIMS": "",
    "FULLY_CONNECTED": "Only the default format is supported for fully-connected weights. "
                       "Output tensor is one-dimensional.",
    "L2_NORMALIZATION": "",
    "LOGISTIC": "",
    "LSTM": _LSTM,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": _LSTM,
    "MAXIMUM": "",
    "MAX_POOL_2D": _POOL,
    "MEAN": "No reduction in batch dimension. If a z-reduction, the z-dimension must be multiple of 4.",
    "MINIMUM": "",
    "MUL": "",
    "PACK": "No packing in batch dimension.",
    "PAD": "No padding in batch dimension.",
    "PRELU": "Alpha must be 1-dimensional (only the innermost dimension can be >1 size). If using Keras PReLU "
             "with 4D input (batch, height, width, channels), then shared_axes must be [1,2] so each filter "
             "has only one set of parameters.",
    "QUANTIZE": "",
    "REDUCE_MAX": _BATCH,
    "REDUCE_MIN": _BATCH,
    "RELU": "",
    "RELU6": "",
    "RELU_N1_TO_1": "",
    "RESHAPE": "Certain reshapes might not be mapped for large tensor sizes.",
    "RESIZE_BILINEAR": _RESIZE,
    "RESIZE_NEAREST_NEIGHBOR": _RESIZE,
    "RSQRT": "",
    "SLICE": "",
    "SOFTMAX": "Supports only 1D input tensor with a max of 16,000 elements.",
    "SPACE_TO_DEPTH": "",
    "SPLIT": "",
    "SQUEEZE": "Supported only when input tensor dimensions that have leading 1s (that is, no relayout needed). "
               "For example input tensor with [y][x][z] = 1,1,10 or 1,5,10 is ok. But [y][x][z] = 5,1,10 is "
               "not supported.",
    "STRIDED_SLICE": "Supported only when all strides are equal to 1 (that is, effectively a Stride op), and "
                     "with ellipsis-axis-mask == 0, and new-axis-max == 0.",
    "SUB": "",
    "SUM": "",
    "SQUARED_DIFFERENCE": "",
    "TANH": "",
    "TRANSPOSE": "",
    "TRANSPOSE_CONV": "",
}

CONVERSION_REASON = "float input/output conversion runs on the CPU"
EIGHT_BIT = frozenset({"int8", "uint8"})
PARAM_DTYPES = EIGHT_BIT | {"int32", "int64"}  # biases and constant shape/axis/padding tensors
SOFTMAX_MAX_ELEMENTS = 16_000

# Inputs that carry activations (must be 8-bit, rank-checked). Others are weights, biases or parameters.
_ALL_INPUTS = frozenset({"ADD", "SUB", "MUL", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "CONCATENATION", "PACK"})
_DATA_INPUTS: dict[str, tuple[int, ...]] = {"SPLIT": (1,), "TRANSPOSE_CONV": (2,)}
_WEIGHT_INPUTS: dict[str, tuple[int, ...]] = {
    "CONV_2D": (1,), "DEPTHWISE_CONV_2D": (1,), "FULLY_CONNECTED": (1,), "TRANSPOSE_CONV": (1,), "PRELU": (1,)}
_DTYPE = re.compile(r"(bfloat16|float\d+|u?int\d+|bool|string|complex\d+)")


@dataclass
class OpInfo:
    """One op of a TFLite graph, in execution order, as an interpreter reports it."""

    index: int
    name: str
    input_dtypes: list[str] = field(default_factory=list)
    output_dtypes: list[str] = field(default_factory=list)
    input_shapes: list[list[int]] = field(default_factory=list)
    output_shapes: list[list[int]] = field(default_factory=list)


@dataclass
class ReadinessIssue:
    """Something that keeps the model, or one op, off the Edge TPU."""

    op_index: int | None
    op: str | None
    problem: str


@dataclass
class ReadinessReport:
    """Per-op placement forecast (rows of index, op, status "maps"/"cpu", reason) and the blockers."""

    ops: list[dict[str, Any]]
    issues: list[ReadinessIssue]
    subgraphs: int
    ready: bool
    summary: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def normalize_dtype(dtype: Any) -> str:
    """``numpy.int8``, ``<class 'numpy.float32'>``, ``kTfLiteUInt8``, ``INT8`` -> ``int8`` etc."""
    if dtype is None:
        return ""
    text = getattr(dtype, "__name__", None) or str(dtype)
    found = _DTYPE.findall(text.lower())
    return found[-1] if found else text.strip().lower()


def _at(items: list[Any], position: int) -> Any:
    return items[position] if 0 <= position < len(items) else None


def _data_inputs(name: str, count: int) -> tuple[int, ...]:
    if name in _ALL_INPUTS:
        return tuple(range(count))
    return _DATA_INPUTS.get(name, (0,))


def _big_dims(shape: list[int]) -> list[int]:
    return [d for d in shape if d > 1]


def _problems(op: OpInfo) -> list[tuple[str, str]]:
    """(short, long) descriptions of why ``op`` cannot run on the Edge TPU; empty if it can."""
    name = op.name.upper()
    if name not in SUPPORTED_OPS:  # its dtypes and shapes do not matter then
        return [("not supported", f"{name} is not an operation the Edge TPU supports")]
    found: list[tuple[str, str]] = []
    data = _data_inputs(name, len(op.input_dtypes))
    eight_bit_inputs = set(data) | set(_WEIGHT_INPUTS.get(name, ()))
    bad: list[str] = []
    for position, raw in enumerate(op.input_dtypes):
        dtype = normalize_dtype(raw)
        if dtype and dtype not in (EIGHT_BIT if position in eight_bit_inputs else PARAM_DTYPES):
            bad.append(f"input {position} is {dtype}")
    bad += [f"output {p} is {d}" for p, d in enumerate(map(normalize_dtype, op.output_dtypes))
            if d and d not in EIGHT_BIT]
    if bad:
        found.append(("not 8-bit quantized", f"{name}: {', '.join(bad)}; the Edge TPU needs 8-bit (int8/uint8) "
                                             "tensors, int32 only for biases"))
    shapes = [_at(op.input_shapes, p) for p in data] + list(op.output_shapes)
    shapes = [list(s) for s in shapes if s is not None]
    if any(d < 0 for s in shapes for d in s):
        found.append(("dynamic tensor size", f"{name} has a tensor of dynamic size; sizes must be constant at "
                                             "compile time"))
    elif any(len(s) > 3 and _big_dims(s[:-3]) for s in shapes):
        found.append(("tensor rank too high", f"{name} has a tensor with a dimension larger than 1 outside "
                                              "the 3 innermost ones"))
    if name == "FULLY_CONNECTED" and any(len(_big_dims(s)) > 1 for s in op.output_shapes):
        found.append(("output not 1-D", "FULLY_CONNECTED output must be one-dimensional (batch size 1)"))
    if name == "SOFTMAX":
        shape = _at(op.input_shapes, 0) or []
        size = 1
        for d in shape:
            size *= max(d, 1)
        if len(_big_dims(shape)) > 1 or size > SOFTMAX_MAX_ELEMENTS:
            found.append(("input not 1-D or too large", "SOFTMAX needs a 1-D input of at most 16,000 elements"))
    return found


def _is_input_conversion(op: OpInfo) -> bool:
    if op.name.upper() != "QUANTIZE":
        return False
    dtypes = [normalize_dtype(d) for d in op.input_dtypes if normalize_dtype(d)]
    return not dtypes or all(d.startswith(("float", "bfloat")) for d in dtypes)


def _row(op: OpInfo, status: str, reason: str) -> dict[str, Any]:
    return {"index": op.index, "op": op.name.upper(), "status": status, "reason": reason}


def check_readiness(ops: list[OpInfo], subgraphs: int = 1, dynamic_inputs: Iterable[str] = ()) -> ReadinessReport:
    """Forecast where each op of a TFLite graph will run after ``edgetpu_compiler`` (without ``-a``)."""
    ops = list(ops or [])
    total = len(ops)
    lead = 0
    while lead < total and _is_input_conversion(ops[lead]):
        lead += 1
    trail = 0
    while trail < total - lead and ops[total - 1 - trail].name.upper() == "DEQUANTIZE":
        trail += 1
    rows: list[dict[str, Any]] = []
    issues: list[ReadinessIssue] = []
    blocker: tuple[OpInfo, str] | None = None
    for position, op in enumerate(ops):
        if position < lead or position >= total - trail:
            rows.append(_row(op, "cpu", CONVERSION_REASON))
            continue
        problems = _problems(op)
        issues += [ReadinessIssue(op.index, op.name.upper(), long) for _, long in problems]
        if problems:
            rows.append(_row(op, "cpu", problems[0][1]))
            blocker = blocker or (op, problems[0][0])
        elif blocker is not None:
            first = blocker[0]
            rows.append(_row(op, "cpu", f"after {first.name.upper()} (op {first.index}), the first op that cannot "
                                        "map: the compiler maps only the ops before it"))
        else:
            rows.append(_row(op, "maps", ""))
    extra: list[str] = []
    if total - lead - trail <= 0:
        issues.append(ReadinessIssue(None, None, "no operations for the Edge TPU between the input and output "
                                                 "conversions"))
        extra.append("nothing for the Edge TPU to run")
    if subgraphs != 1:
        issues.append(ReadinessIssue(None, None, f"the model has {subgraphs} subgraphs; the Edge TPU compiler "
                                                 "needs exactly one"))
        extra.append(f"{subgraphs} subgraphs (one supported)")
    dynamic = [str(name) for name in (dynamic_inputs or ())]
    for name in dynamic:
        issues.append(ReadinessIssue(None, None, f"input '{name}' has a dynamic size; tensor sizes must be "
                                                 "constant at compile time"))
    if dynamic:
        extra.append("dynamic input size")
    return ReadinessReport(ops=rows, issues=issues, subgraphs=subgraphs, ready=not issues,
                           summary=_summary(rows, blocker, lead + trail, extra))


def _summary(rows: list[dict[str, Any]], blocker: tuple[OpInfo, str] | None, conversions: int,
             extra: list[str]) -> str:
    mapped = sum(row["status"] == "maps" for row in rows)
    cpu = len(rows) - mapped
    text = f"{mapped} of {len(rows)} ops map to the Edge TPU"
    reasons = [f"{blocker[0].name.upper()} {blocker[1]}"] if blocker else []
    if conversions:
        reasons.append("float input/output conversion")
    if cpu:
        text += f"; {cpu} {'runs' if cpu == 1 else 'run'} on the CPU ({'; '.join(reasons)})"
    if extra:
        text += "; not ready: " + ", ".join(extra)
    return text
