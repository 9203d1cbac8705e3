"""Microcontrollers: the int8 policy for TensorFlow Lite Micro, as C source.

- TFLite Micro's ARG_MAX writes int32 only: a discrete policy's ARG_MAX (and the ops that only pass its
  result on) are rewritten to int32 in the flatbuffer; nothing else changes.
- The tensor arena is measured, not guessed: in a child process (TFLite Micro prints to the process's
  own stderr) the smallest arena in which the interpreter allocates and runs the model is found by
  bisection, and the recording allocator's own account of what it used is kept beside it.
- The ops resolver lists exactly the builtin ops the model uses, with TFLite Micro's ``Add*`` names.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..children import neutral_cwd, python_module
from ..errors import StageError

PASS_THROUGH = {"RESHAPE", "SQUEEZE", "EXPAND_DIMS", "PACK", "CONCATENATION", "STRIDED_SLICE", "GATHER", "SLICE"}
# Add* names that TFLite Micro does not spell as the op's name in CamelCase.
ADD_METHODS = {"CUMSUM": "AddCumSum", "PADV2": "AddPadV2", "BATCH_MATMUL": "AddBatchMatMul"}
ARENA_ALIGNMENT = 16
ARENA_TIMEOUT_S = 300


def _schema() -> Any:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated

    return schema_py_generated


def _op_names(schema: Any) -> dict[int, str]:
    return {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_") and isinstance(v, int)}


def _builtin(schema: Any, model: Any, op: Any) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def micro_model(tflite: bytes) -> tuple[bytes, list[str], list[str]]:
    """The model TFLite Micro can run (int64 argmax results made int32), what changed, and the ops used."""
    import flatbuffers

    schema = _schema()
    model = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(bytearray(tflite), 0))
    names = _op_names(schema)
    changes: list[str] = []
    used: list[str] = []
    for graph in model.subgraphs:
        narrowed: set[int] = set()
        for op in graph.operators or []:
            name = names.get(_builtin(schema, model, op), f"BUILTIN_{_builtin(schema, model, op)}")
            used += [name] if name not in used else []
            outputs = [i for i in op.outputs if i >= 0 and graph.tensors[i].type == schema.TensorType.INT64]
            if name in ("ARG_MAX", "ARG_MIN") and outputs:
                op.builtinOptions.outputType = schema.TensorType.INT32
            elif not (name in PASS_THROUGH and any(i in narrowed for i in op.inputs)):
                continue
            for index in outputs:
                graph.tensors[index].type = schema.TensorType.INT32
                narrowed.add(index)
                changes.append(f"{name} output {graph.tensors[index].name.decode(errors='replace')}: int64 -> int32")
    if not changes:
        return tflite, changes, used
    builder = flatbuffers.Builder(len(tflite) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output()), changes, used


def input_names(tflite: bytes) -> list[str]:
    """The names of the main subgraph's inputs, in the model's order."""
    schema = _schema()
    graph = schema.Model.GetRootAsModel(bytearray(tflite), 0).Subgraphs(0)
    return [graph.Tensors(graph.Inputs(i)).Name().decode(errors="replace") for i in range(graph.InputsLength())]


def add_method(op: str) -> str:
    if op in ADD_METHODS:
        return ADD_METHODS[op]
    parts = [part.upper() if part[:-1].isdigit() and part.endswith("D") else part.capitalize() for part in op.split("_")]
    return "Add" + "".join(parts)


@dataclass
class Arena:
    minimum_bytes: int  # the smallest arena in which the interpreter allocated and ran the model
    recorded_bytes: int | None  # what TFLite Micro's recording allocator says it used
    report: str  # the recording allocator's own lines

    @property
    def size(self) -> int:
        """The arena to declare: the measured minimum, rounded up to TFLite Micro's 16-byte alignment."""
        return -(-self.minimum_bytes // ARENA_ALIGNMENT) * ARENA_ALIGNMENT

    def to_json(self) -> dict[str, Any]:
        return {"declared_bytes": self.size, "minimum_bytes": self.minimum_bytes, "recorded_bytes": self.recorded_bytes,
                "how": "bisection: the smallest arena in which TFLite Micro's interpreter (recording allocator, "
                       "64-bit host) allocates and runs the model"}


def measure_arena(model: Path) -> Arena:
    """Run the bisection in a child process (TFLite Micro writes its complaints to stderr)."""
    try:
        done = subprocess.run(python_module("studio.core.deploy.micro", str(Path(model).resolve())),
                              capture_output=True, text=True, timeout=ARENA_TIMEOUT_S, cwd=neutral_cwd())
    except subprocess.TimeoutExpired:
        raise StageError(model, f"measuring the tensor arena took over {ARENA_TIMEOUT_S} s") from None
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StageError(model, f"TFLite Micro cannot run this model: {tail}") from None
    if "error" in result:
        raise StageError(model, f"TFLite Micro cannot run this model: {result['error']}")
    report = [line for line in done.stderr.splitlines() if line.startswith("[RecordingMicroAllocator]")]
    recorded = next((int(line.split()[-2]) for line in report if "allocation total" in line), None)
    return Arena(result["minimum_bytes"], recorded, "\n".join(report))


def _fits(data: bytes, size: int, inputs: list[Any]) -> bool:
    """Whether the interpreter allocates and runs the model in ``size`` bytes. Each try runs in a forked
    process: with some arenas that are too small, TFLite Micro crashes instead of failing."""
    import os

    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            from tflite_micro.python.tflite_micro import runtime

            interpreter = runtime.Interpreter.from_bytes(data, arena_size=size)
            for index, value in enumerate(inputs):
                interpreter.set_input(value, index)
            interpreter.invoke()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def _bisect(path: str) -> dict[str, Any]:
    import numpy as np
    from tflite_micro.python.tflite_micro import runtime

    data = Path(path).read_bytes()
    high = max(4096, len(data) * 10)  # the interpreter's own default guess, doubled until it fits
    probe = None
    while probe is None and high <= 1 << 30:
        try:
            probe = runtime.Interpreter.from_bytes(data, arena_size=high)
        except (RuntimeError, ValueError):
            high *= 2
    if probe is None:
        return {"error": "no arena up to 1 GiB is enough"}
    details = [probe.get_input_details(index) for index in range(len(input_names(data)))]
    inputs = [np.zeros(detail["shape"], dtype=detail["dtype"]) for detail in details]
    if not _fits(data, high, inputs):
        return {"error": "the interpreter does not run the model (see its messages)"}
    low = 0  # does not fit; high fits
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if _fits(data, middle, inputs) else (middle, high)
    interpreter = runtime.Interpreter.from_bytes(data, arena_size=high)
    for position, value in enumerate(inputs):
        interpreter.set_input(value, position)
    interpreter.invoke()
    sys.stderr.flush()
    interpreter.print_allocations()
    return {"minimum_bytes": high}


if __name__ == "__main__":
    print(json.dumps(_bisect(sys.argv[1])), flush=True)
