"""Where int8 hurts: every tensor of an int8 TFLite model against the same graph in float32.

Both models run in LiteRT with every intermediate tensor kept (``experimental_preserve_all_tensors``),
on the same observations (the calibration states and the states the original visits). An int8
activation is paired with the float32 tensor of the same name (onnx2tf and TensorFlow's converter keep
the names); the input's QUANTIZE output with the float input, the output's int8 tensor with the float
output. Per tensor and per source:

* ``rmse_over_scale``: the error of the dequantised int8 values against float32, in quantisation steps,
  as TensorFlow's quantisation debugger reports it (about 0.29 = 1/sqrt(12) is rounding alone); the
  error accumulates through the graph, so the tensor where it *jumps* is where int8 hurts;
* ``max_abs_error``, ``relative_error`` (the error's RMS over the float values' spread), the float range
  against the range int8 can represent (``steps``: how many int8 steps the float values span,
  ``saturated``: the share of values outside the representable range).

Constants (weights, VecNormalize's statistics) are compared with their float32 originals: how many
non-zero values round to zero. Input features: the visited range over the input's int8 step
(``steps``; a feature spanning few steps loses resolution before any layer sees it), and the worst
relative error of that feature along the elementwise chain that follows the input (normalisation,
clipping) before the first layer mixes features.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..policy_io import PolicyIO

MIN_STEPS = 32  # a feature whose visited range spans fewer int8 steps (5 bits) at the input loses resolution
ROUNDING = 1 / np.sqrt(12)  # rmse / scale of rounding alone
JUMP = 4.0  # a tensor whose rmse / scale is this many times rounding's has lost precision
FEATURE_ERROR = 0.1  # a feature whose error is this share of its spread (about 10 steps left) loses resolution
DECISIONS_UNDER_STEP = 10.0  # percent of states whose decision margin is under one int8 step: rounding decides
TAIL = 1e-4  # percentile calibration: the share of values clipped on each side
MAX_ROWS = 400  # observations per source: enough for the statistics, a second or two per model
MAX_FEATURES = 1024  # per-feature detail for flat inputs only (an image has too many to list)
EXAMPLE_VALUES = 8  # values of each tensor shown side by side for one observation


class _Model:
    """One TFLite model in LiteRT's reference kernels, every tensor kept."""

    def __init__(self, path: Path, io: PolicyIO) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.interpreter = Interpreter(
            model_path=str(path), experimental_preserve_all_tensors=True,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        self.interpreter.allocate_tensors()
        self.io = io
        self.tensors = {d["index"]: d for d in self.interpreter.get_tensor_details()}
        self.by_name = {d["name"]: d["index"] for d in self.tensors.values()}
        self.ops = [op for op in self.interpreter._get_ops_details() if op["op_name"] != "DELEGATE"]
        self.producer = {int(t): op for op in self.ops for t in op["outputs"]}
        details = self.interpreter.get_input_details()
        by_input = {d["name"]: d for d in details}
        self.inputs = [(spec, by_input.get(f"serving_default_{spec.name}:0") or details[i])
                       for i, spec in enumerate(io.inputs)]

    def run(self, feeds: dict[str, np.ndarray], row: int, indices: list[int]) -> list[np.ndarray]:
        for spec, detail in self.inputs:
            value = feeds[spec.name][row:row + 1]
            if spec.channels_first:
                value = value.transpose(0, 2, 3, 1)
            scale, zero = detail["quantization"]
            if scale and np.issubdtype(detail["dtype"], np.integer):
                info = np.iinfo(detail["dtype"])
                value = np.clip(np.round(value / scale + zero), info.min, info.max)
            self.interpreter.set_tensor(detail["index"], np.ascontiguousarray(value, dtype=detail["dtype"]))
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(i).copy() for i in indices]

    def dequantized(self, index: int, values: np.ndarray) -> np.ndarray:
        detail = self.tensors[index]
        params = detail["quantization_parameters"]
        scales, zeros = params["scales"], params["zero_points"]
        if not len(scales) or not np.issubdtype(detail["dtype"], np.integer):
            return values.astype(np.float64)
        shape = [1] * values.ndim
        if len(scales) > 1:
            axis = params["quantized_dimension"] + (values.ndim - len(detail["shape"]))
            shape[axis] = len(scales)
        zeros = np.broadcast_to(zeros, scales.shape) if len(zeros) != len(scales) else zeros
        return (values.astype(np.float64) - zeros.reshape(shape)) * scales.reshape(shape)


def _pairs(quant: _Model, floats: _Model) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """(int8 tensor, float tensor, op) for activations and for quantised constants, in graph order."""
    activations, constants, seen = [], [], set()
    for op in quant.ops:
        name = op["op_name"]
        for out in op["outputs"]:
            out = int(out)
            q_name = quant.tensors[out]["name"]
            if name == "QUANTIZE":  # the float input, quantised
                f_index = floats.by_name.get(quant.tensors[int(op["inputs"][0])]["name"])
            elif name == "DEQUANTIZE":
                continue
            else:
                f_index = floats.by_name.get(q_name)
            consumer = next((o for o in quant.ops if o["op_name"] == "DEQUANTIZE" and int(o["inputs"][0]) == out), None)
            if consumer is not None:  # the int8 output: its float twin is the DEQUANTIZE's output name
                f_index = floats.by_name.get(quant.tensors[int(consumer["outputs"][0])]["name"], f_index)
            if f_index is None:
                continue
            if _quantized(quant.tensors[out]) and out not in seen:
                activations.append((out, f_index, name))
                seen.add(out)
            if name == "QUANTIZE":
                continue
            twin = floats.producer.get(f_index)
            if twin is None or twin["op_name"] != name or len(twin["inputs"]) != len(op["inputs"]):
                continue
            for q_in, f_in in zip(op["inputs"], twin["inputs"]):
                q_in, f_in = int(q_in), int(f_in)
                if (q_in >= 0 and f_in >= 0 and q_in not in quant.producer and q_in not in seen
                        and _quantized(quant.tensors[q_in]) and _is_constant(floats, f_in)):
                    constants.append((q_in, f_in, name))
                    seen.add(q_in)
    return activations, constants


def _quantized(detail: dict[str, Any]) -> bool:
    return bool(len(detail["quantization_parameters"]["scales"])) and np.issubdtype(detail["dtype"], np.integer)


def _is_constant(model: _Model, index: int) -> bool:
    return index not in model.producer and index not in {d["index"] for _, d in model.inputs}


def _scale_of(detail: dict[str, Any]) -> tuple[float, int]:
    params = detail["quantization_parameters"]
    return float(params["scales"][0]), int(params["zero_points"][0])


def _metrics(f: np.ndarray, q: np.ndarray, scale: float, zero: int) -> dict[str, Any]:
    error = q - f
    rmse = float(np.sqrt(np.mean(error ** 2)))
    low, high = scale * (-128 - zero), scale * (127 - zero)
    spread = float(np.std(f))
    full = max(float(f.max()), 0.0) - min(float(f.min()), 0.0)  # the range TFLite calibrates: min/max, 0 inside
    clipped = [min(float(np.quantile(f, TAIL)), 0.0), max(float(np.quantile(f, 1 - TAIL)), 0.0)]
    return {
        "rmse": rmse,
        "rmse_over_scale": rmse / scale,
        "max_abs_error": float(np.max(np.abs(error))),
        "relative_error": rmse / spread if spread > 0 else (0.0 if rmse == 0 else None),
        "float_range": [float(f.min()), float(f.max())],
        "steps": float((f.max() - f.min()) / scale),
        "saturated_percent": float(100 * np.mean((f < low - scale / 2) | (f > high + scale / 2))),
        # Without the rarest TAIL of values on each side: how much finer the steps of the rest could be.
        "clipped_range": clipped,
        "range_shrink": 1 - (clipped[1] - clipped[0]) / full if full > 0 else 0.0,
    }


def _constant(quant: _Model, floats: _Model, q_index: int, f_index: int, op: str) -> dict[str, Any]:
    detail = quant.tensors[q_index]
    f = floats.interpreter.get_tensor(f_index).astype(np.float64)
    q = quant.dequantized(q_index, quant.interpreter.get_tensor(q_index))
    if q.shape != f.shape:
        q = q.reshape(f.shape) if q.size == f.size else q
    scales = detail["quantization_parameters"]["scales"]
    nonzero = np.abs(f) > 0
    lost = nonzero & (q == 0)
    relative = np.abs(q - f)[nonzero] / np.abs(f[nonzero]) if nonzero.any() else np.zeros(1)
    return {"name": detail["name"], "float_name": floats.tensors[f_index]["name"], "op": op,
            "shape": [int(d) for d in detail["shape"]],
            "scale": float(scales[0]) if len(scales) == 1 else None, "per_channel_scales": int(len(scales)),
            "values": int(f.size), "lost_to_zero": int(lost.sum()), "nonzero": int(nonzero.sum()),
            "max_relative_error": float(relative.max()), "float_range": [float(f.min()), float(f.max())]}


def diagnose(int8_path: Path, float_path: Path, io: PolicyIO, sources: dict[str, Any]) -> dict[str, Any]:
    """The per-tensor, per-constant and per-feature report of ``int8_path`` against ``float_path``.

    ``sources``: name -> a batch of raw observations (a dict of batches for Dict spaces), fed through
    ``io`` (so a float-side input transform is applied as every runtime applies it).
    """
    quant, floats = _Model(int8_path, io), _Model(float_path, io)
    activations, constants = _pairs(quant, floats)
    q_indices = [q for q, _, _ in activations]
    f_indices = [f for _, f, _ in activations]
    tensors = [{"name": quant.tensors[q]["name"], "op": op, "shape": [int(d) for d in quant.tensors[q]["shape"]],
                "scale": _scale_of(quant.tensors[q])[0], "zero_point": _scale_of(quant.tensors[q])[1], "sources": {}}
               for q, _, op in activations]
    collected: dict[str, tuple[list[np.ndarray], list[np.ndarray]]] = {}
    rows_used = {}
    for source, batch in sources.items():
        feeds = io.feeds(batch)
        count = len(next(iter(feeds.values())))
        rows = np.unique(np.linspace(0, count - 1, min(count, MAX_ROWS)).astype(int))
        rows_used[source] = int(len(rows))
        q_values = [[] for _ in q_indices]
        f_values = [[] for _ in f_indices]
        for row in rows:
            for store, got in ((q_values, quant.run(feeds, int(row), q_indices)),
                               (f_values, floats.run(feeds, int(row), f_indices))):
                for values, value in zip(store, got):
                    values.append(value)
        q_stacked = [quant.dequantized(q, np.concatenate(v)) for q, v in zip(q_indices, q_values)]
        f_stacked = [np.concatenate(v).astype(np.float64) for v in f_values]
        collected[source] = (q_stacked, f_stacked)
        for entry, q, f in zip(tensors, q_stacked, f_stacked):
            if q.shape == f.shape:
                entry["sources"][source] = _metrics(f, q, entry["scale"], entry["zero_point"])
    report: dict[str, Any] = {"rows": rows_used, "tensors": tensors,
                              "constants": [_constant(quant, floats, q, f, op) for q, f, op in constants]}
    visited = "visited" if "visited" in collected else next(iter(collected), None)
    if visited is not None:
        report["example"] = _example(tensors, *collected[visited])
        report["features"] = _features(quant, floats, io, tensors, activations, collected[visited], sources[visited])
        report["decisions"] = _decisions(quant, activations, tensors, collected[visited][1])
    report["summary"] = summary_lines(report)
    return report


def _example(tensors: list[dict[str, Any]], q: list[np.ndarray], f: list[np.ndarray]) -> dict[str, Any]:
    """Float and int8 values of every tensor side by side, on the observation where the output is worst."""
    if not q:
        return {}
    out_q, out_f = q[-1].reshape(len(q[-1]), -1), f[-1].reshape(len(f[-1]), -1)
    row = int(np.argmax(np.abs(out_q - out_f).max(axis=1))) if out_q.shape == out_f.shape else 0
    values = {}
    for entry, qv, fv in zip(tensors, q, f):
        if qv.shape == fv.shape:
            values[entry["name"]] = {"float": [round(float(v), 6) for v in fv[row].ravel()[:EXAMPLE_VALUES]],
                                     "int8": [round(float(v), 6) for v in qv[row].ravel()[:EXAMPLE_VALUES]]}
    return {"observation": row, "values": values}


def _features(quant: _Model, floats: _Model, io: PolicyIO, tensors: list[dict[str, Any]],
              activations: list[tuple[int, int, str]], collected: tuple[list[np.ndarray], list[np.ndarray]],
              batch: Any) -> list[dict[str, Any]]:
    """Per input feature: visited range, int8 steps at the input, worst error along the elementwise chain."""
    q_all, f_all = collected
    feeds = io.feeds(batch)
    found = []
    for spec, detail in quant.inputs:
        size = int(np.prod(spec.shape)) if spec.shape else 1
        if spec.channels_first or size > MAX_FEATURES:
            continue
        values = feeds[spec.name].reshape(len(feeds[spec.name]), -1).astype(np.float64)
        low, high = values.min(axis=0), values.max(axis=0)
        start = next((i for i, (q, _, op) in enumerate(activations)
                      if op == "QUANTIZE" and floats.tensors[activations[i][1]]["name"] == detail["name"]), None)
        scale = tensors[start]["scale"] if start is not None else None
        chain = [i for i, entry in enumerate(tensors)
                 if int(np.prod(entry["shape"])) == size and i != start and entry["op"] != "FULLY_CONNECTED"
                 and (start is None or i > start)]
        chain = _leading_chain(chain, start)
        worst = np.zeros(size)
        at = [""] * size
        for i in chain:
            q, f = q_all[i].reshape(len(q_all[i]), -1), f_all[i].reshape(len(f_all[i]), -1)
            if q.shape != f.shape or f.shape[1] != size:
                continue
            rmse = np.sqrt(np.mean((q - f) ** 2, axis=0))
            spread = np.maximum(f.std(axis=0), tensors[i]["scale"])
            relative = rmse / spread
            for k in np.nonzero(relative > worst)[0]:
                worst[k], at[k] = relative[k], tensors[i]["name"]
        for k in range(size):
            steps = float((high[k] - low[k]) / scale) if scale else None
            few = steps is not None and high[k] > low[k] and steps < MIN_STEPS
            found.append({"input": spec.name, "index": k, "visited_range": [float(low[k]), float(high[k])],
                          "input_scale": scale, "steps": steps,
                          "worst_relative_error": float(worst[k]) if at[k] else None,  # None: no elementwise chain
                          "at": at[k] or None, "flagged": bool(few or worst[k] > FEATURE_ERROR)})
    return found


def _decisions(quant: _Model, activations: list[tuple[int, int, str]], tensors: list[dict[str, Any]],
               floats: list[np.ndarray]) -> list[dict[str, Any]]:
    """Per argmax of the graph: how often the original's margin between its two best choices (in the float
    values the argmax reads) is under one int8 step of that tensor: there, int8 rounding decides."""
    position = {q: i for i, (q, _, _) in enumerate(activations)}
    found = []
    for op in quant.ops:
        if op["op_name"] != "ARG_MAX" or int(op["inputs"][0]) not in position:
            continue
        i = position[int(op["inputs"][0])]
        values = floats[i].reshape(len(floats[i]), -1)
        if values.shape[1] < 2:
            continue
        top = np.sort(values, axis=1)
        margin = top[:, -1] - top[:, -2]
        step = tensors[i]["scale"]
        found.append({"tensor": tensors[i]["name"], "step": step, "median_margin": float(np.median(margin)),
                      "under_one_step_percent": float(100 * np.mean(margin < step)),
                      "value_range": [float(values.min()), float(values.max())]})
    return found


def _leading_chain(indices: list[int], start: int | None) -> list[int]:
    """The tensors right after the input (consecutive in graph order), before the first layer mixes features."""
    chain: list[int] = []
    expected = (start + 1) if start is not None else (indices[0] if indices else 0)
    for i in indices:
        if i != expected:
            break
        chain.append(i)
        expected = i + 1
    return chain


def worst_tensors(report: dict[str, Any], count: int = 3, source: str = "visited") -> list[dict[str, Any]]:
    """The tensors whose error jumps most over the tensor before them (rmse / scale on ``source``)."""
    tensors = [t for t in report.get("tensors", []) if t["sources"]]
    scored = []
    previous = None
    for entry in tensors:
        metrics = entry["sources"].get(source) or next(iter(entry["sources"].values()))
        relative = metrics["relative_error"]
        if relative is None:
            continue
        jump = relative / max(previous, 1e-12) if previous is not None else relative / 1e-3
        scored.append((metrics["rmse_over_scale"] if metrics["rmse_over_scale"] > JUMP * ROUNDING else 0.0, jump, entry))
        previous = relative
    ranked = sorted((s for s in scored if s[0] > 0), key=lambda s: -s[1])
    return [entry for _, _, entry in ranked[:count]]


def range_gain(report: dict[str, Any] | None) -> tuple[float, str | None]:
    """The most any activation's int8 range would shrink without its rarest values, and which tensor."""
    best, name = 0.0, None
    for entry in (report or {}).get("tensors", []):
        if entry["op"] == "QUANTIZE":
            continue  # the input: equalised on the float side already
        for metrics in entry["sources"].values():
            if metrics.get("range_shrink", 0.0) > best:
                best, name = metrics["range_shrink"], entry["name"]
    return best, name


def summary_lines(report: dict[str, Any]) -> list[str]:
    """One or two lines: where int8 hurts most, and which features lose resolution."""
    lines = []
    worst = worst_tensors(report, 2)
    lost = sorted((c for c in report.get("constants", []) if c["lost_to_zero"] > 0 and c["op"] != "FULLY_CONNECTED"),
                  key=lambda c: -c["lost_to_zero"] / max(1, c["nonzero"]))
    parts = []
    for entry in worst:
        metrics = entry["sources"].get("visited") or next(iter(entry["sources"].values()))
        saturated = (f", {metrics['saturated_percent']:.0f} % of its values outside its int8 range"
                     if metrics["saturated_percent"] >= 1 else "")
        parts.append(f"{_short(entry['name'])} ({entry['op']}): error {metrics['rmse_over_scale']:.1f} steps RMS, "
                     f"{metrics['relative_error']:.0%} of its spread{saturated}")
    for constant in lost[:1]:
        scale = f"one scale {constant['scale']:.3g}" if constant["scale"] is not None else "per-channel scales"
        parts.append(f"the {constant['op']} constant {_short(constant['float_name'])} loses {constant['lost_to_zero']} of "
                     f"{constant['nonzero']} values to 0 ({scale} for values "
                     f"{constant['float_range'][0]:.3g}..{constant['float_range'][1]:.3g})")
    sentences = []
    for decision in report.get("decisions", []):
        if decision["under_one_step_percent"] >= DECISIONS_UNDER_STEP:
            sentences.append(f"the argmax reads {_short(decision['tensor'])}, whose int8 step {decision['step']:.3g} "
                             f"(values {decision['value_range'][0]:.3g}..{decision['value_range'][1]:.3g}) exceeds the "
                             f"original's margin between its two best choices on {decision['under_one_step_percent']:.0f} % "
                             f"of visited states (median margin {decision['median_margin']:.3g}): rounding decides there")
    if parts:
        sentences.append("int8 hurts most at " + "; ".join(parts))
    lines.append("; ".join(sentences) if sentences else "int8 error stays near rounding through every tensor")
    features = [f for f in report.get("features", []) if f["flagged"]]
    if features:
        shown = []
        for f in sorted(features, key=lambda f: (f["steps"] if f["steps"] is not None else 1e9))[:4]:
            words = [f"{f['steps']:.0f} input steps" if f["steps"] is not None else "input steps unknown"]
            if f["worst_relative_error"] is not None:
                words.append(f"error {f['worst_relative_error']:.0%} at {_short(f['at'])}")
            shown.append(f"{f['input']}[{f['index']}] ({', '.join(words)})")
        more = f" and {len(features) - len(shown)} more (run.json lists them all)" if len(features) > len(shown) else ""
        lines.append(f"{len(features)} input feature(s) lose resolution: " + ", ".join(shown) + more)
    return lines


def _short(name: str) -> str:
    """A tensor name without its fused-op tail (``a;b;c`` -> ``a``)."""
    return name.split(";")[0]
