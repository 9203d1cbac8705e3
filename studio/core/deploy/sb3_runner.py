#!/usr/bin/env python3
"""Run and check an SB3 Studio device bundle: a policy converted to TFLite, proven on this device.

Needs only Python 3.9+, numpy and a TFLite interpreter (``pip install ai-edge-litert``, or
``tflite-runtime`` on older boards); the Edge TPU model also needs ``libedgetpu.so.1`` and a Coral.

    python3 sb3_runner.py probe [--json]            what this device offers
    python3 sb3_runner.py check [--json] [--calls N] [--warmup N] [--artifact KEY ...]
                                                    run every model on the golden observations, judge it
                                                    as the studio did, and time it
    python3 sb3_runner.py predict OBS.npy [--artifact KEY] [--json]
                                                    actions for a batch of observations

Exit codes: 0 everything that could run passed, 1 a check failed, 2 bad usage or a damaged bundle.

In your own code, :class:`TFLitePolicy` is all you need::

    from sb3_runner import TFLitePolicy, load_interpreter
    io = manifest["artifacts"]["tflite_int8"].get("io") or manifest["io"]   # a repaired int8 model has its own
    policy = TFLitePolicy(load_interpreter("policy_int8.tflite"), io)
    action = policy.predict(observation[None])[0]      # a batch of one in, a batch of one out

This file is the studio's own LiteRT wrapper (``studio.core.runtimes.litert`` runs it), copied as is.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

FORMAT = "sb3-studio-bundle/1"
MANIFEST = "manifest.json"
EDGETPU_LIBRARY = "libedgetpu.so.1"
EDGETPU_HINT = ("install the Edge TPU runtime (libedgetpu1-std from Coral's apt repository, "
                "https://coral.ai/docs/accelerator/get-started/) and plug in a Coral device")
INTERPRETER_HINT = "pip install ai-edge-litert (or tflite-runtime on boards it does not support)"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class Unavailable(Exception):
    """This runtime cannot run here: ``reason`` says why and ``hint`` how to get it."""

    def __init__(self, reason: str, hint: str) -> None:
        super().__init__(reason)
        self.reason, self.hint = reason, hint


class BundleDamaged(Exception):
    """The bundle's files do not match its manifest."""


# --- the interpreter --------------------------------------------------------------------------------

def _interpreter_module() -> Tuple[Optional[Any], Optional[str]]:
    """(module, "name version") of the first TFLite interpreter found, or (None, None)."""
    for package, distribution in (("ai_edge_litert", "ai-edge-litert"), ("tflite_runtime", "tflite-runtime")):
        try:
            module = __import__(package + ".interpreter", fromlist=["Interpreter"])
        except ImportError:
            continue
        return module, "%s %s" % (package, _version(distribution, module))
    return None, None


def _version(distribution: str, module: Any = None) -> Optional[str]:
    try:
        from importlib import metadata

        return metadata.version(distribution)
    except Exception:  # noqa: BLE001 - a missing or odd installation: fall back to the module's own
        return getattr(module, "__version__", None) if module is not None else None


def load_edgetpu_delegate() -> Any:
    module, _ = _interpreter_module()
    if module is None:
        raise Unavailable("no TFLite interpreter is installed", INTERPRETER_HINT)
    try:
        import ctypes

        ctypes.CDLL(EDGETPU_LIBRARY)  # first: a failed load_delegate leaves a half-made Delegate that complains
        return module.load_delegate(EDGETPU_LIBRARY)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise Unavailable("cannot load %s: %s" % (EDGETPU_LIBRARY, reason), EDGETPU_HINT) from None


def load_interpreter(path: str, threads: int = 1, edgetpu: bool = False) -> Any:
    module, _ = _interpreter_module()
    if module is None:
        raise Unavailable("no TFLite interpreter is installed", INTERPRETER_HINT)
    delegates = [load_edgetpu_delegate()] if edgetpu else None
    return module.Interpreter(model_path=str(path), num_threads=threads, experimental_delegates=delegates)


# --- the policy -------------------------------------------------------------------------------------

def _quantization(detail: Dict[str, Any]) -> Optional[Tuple[float, int, int, int]]:
    """(scale, zero point, min, max) of an integer tensor that stands for real numbers, else None."""
    scale, zero = detail["quantization"]
    if not scale or not np.issubdtype(detail["dtype"], np.integer):
        return None
    info = np.iinfo(detail["dtype"])
    return float(scale), int(zero), int(info.min), int(info.max)


def _transform(spec: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray, Optional[np.ndarray], Optional[np.ndarray]]:
    """(offset, scale, low, high) of an input's float-side transform, in the input's shape (float32)."""
    shape = tuple(spec["shape"])
    arrays = {k: np.asarray(v, np.float32).reshape(shape) for k, v in spec["transform"].items()
              if k in ("offset", "scale", "low", "high")}
    return arrays["offset"], arrays["scale"], arrays.get("low"), arrays.get("high")


class TFLitePolicy:
    """Environment observations in, environment actions out, through one TFLite interpreter.

    ``predict`` takes a batch (a dict of batches for Dict observations) and returns the action batch.
    A float32 batch of one observation, the shape the model takes, goes straight to the interpreter:
    ``set_tensor``, ``invoke``, ``get_tensor`` and nothing else. Anything else (other dtypes, several
    observations, images in the environment's layout, quantised inputs, several inputs) is converted
    first and run one observation at a time (the models have a static batch of one).
    """

    def __init__(self, interpreter: Any, io: Dict[str, Any]) -> None:
        self.interpreter = interpreter
        self.io = io
        interpreter.allocate_tensors()
        details = interpreter.get_input_details()
        by_name = {d["name"]: d for d in details}
        # Per input: (name, tensor index, dtype, shape in the graph's layout, quantisation, NCHW -> NHWC).
        self._inputs = []
        for position, spec in enumerate(io["inputs"]):
            detail = by_name.get("serving_default_%s:0" % spec["name"]) or details[position]
            self._inputs.append((spec["name"], detail["index"], detail["dtype"], tuple(spec["shape"]),
                                 _quantization(detail), bool(spec.get("channels_first"))))
        # An int8 model whose input ranges were equalised: the host computes, per feature and in float32,
        # clip((observation - offset) * scale, low, high) before the graph (see the studio's PolicyIO).
        self._transforms = {spec["name"]: _transform(spec) for spec in io["inputs"] if spec.get("transform")}
        out = interpreter.get_output_details()[0]
        self._output = (out["index"], _quantization(out))
        self._action_shape = tuple(io["action"]["shape"])
        self._action_dtype = np.dtype(io["action"]["env_dtype"])
        ready = (tuple(out["shape"]) == (1,) + self._action_shape and np.dtype(out["dtype"]) == self._action_dtype
                 and self._output[1] is None)
        name, index, dtype, _, quantization, channels_first = self._inputs[0]
        simple = (len(self._inputs) == 1 and not io.get("dict_observation") and not channels_first
                  and quantization is None and np.dtype(dtype) == np.float32 and not self._transforms)
        set_tensor, invoke, get_tensor = interpreter.set_tensor, interpreter.invoke, interpreter.get_tensor
        out_index, general = self._output[0], self._predict_rows

        def predict_one(observation: Any) -> np.ndarray:
            try:  # the interpreter checks dtype and shape itself: a float32 batch of one goes straight in
                set_tensor(index, observation)
            except (ValueError, TypeError):
                return general(observation)
            invoke()
            return get_tensor(out_index)

        if simple and ready:
            self.predict = predict_one

    def predict(self, observation: Any) -> np.ndarray:  # replaced by the direct path where it applies
        return self._predict_rows(observation)

    def feeds(self, observation: Any) -> List[np.ndarray]:
        """Each input as a batch in the tensor's own dtype and layout (quantised where the model is)."""
        fed = []
        for name, _, dtype, shape, quantization, channels_first in self._inputs:
            value = np.asarray(observation[name] if self.io.get("dict_observation") else observation)
            if channels_first:  # the graph's NCHW image: onnx2tf's TFLite takes it as NHWC
                if value.shape[-len(shape):] == shape:  # the environment emits channels first
                    value = value.reshape((-1,) + shape).transpose(0, 2, 3, 1)
                value = value.reshape((-1,) + shape[1:] + shape[:1])
            else:
                value = value.reshape((-1,) + shape)
            value = value.astype(np.float32, copy=False)
            if name in self._transforms:
                offset, scale, low, high = self._transforms[name]
                value = (value - offset) * scale
                if low is not None:
                    value = np.minimum(np.maximum(value, low), high)
            if quantization is not None:
                scale, zero, low, high = quantization
                value = np.clip(np.round(value / scale + zero), low, high)
            fed.append(np.ascontiguousarray(value, dtype=dtype))
        return fed

    def _predict_rows(self, observation: Any) -> np.ndarray:
        fed = self.feeds(observation)
        set_tensor, invoke, get_tensor = self.interpreter.set_tensor, self.interpreter.invoke, self.interpreter.get_tensor
        out_index, quantization = self._output
        rows = []
        for row in range(len(fed[0])):
            for (_, index, _, _, _, _), values in zip(self._inputs, fed):
                set_tensor(index, values[row:row + 1])
            invoke()
            rows.append(get_tensor(out_index))
        value = rows[0] if len(rows) == 1 else np.concatenate(rows)
        if quantization is not None:
            value = (value.astype(np.float32) - quantization[1]) * quantization[0]
        return value.reshape((-1,) + self._action_shape).astype(self._action_dtype, copy=False)

    def raw_call_for(self, observation: Any) -> Tuple[Callable[[Any], Any], Any]:
        """The bare ``set_tensor``/``invoke``/``get_tensor`` call, and its prepared input for one observation."""
        fed = [values[:1] for values in self.feeds(observation)]
        set_tensor, invoke, get_tensor = self.interpreter.set_tensor, self.interpreter.invoke, self.interpreter.get_tensor
        out_index = self._output[0]
        if len(fed) == 1:
            index = self._inputs[0][1]

            def raw(values: np.ndarray) -> np.ndarray:
                set_tensor(index, values)
                invoke()
                return get_tensor(out_index)

            return raw, fed[0]
        indices = [spec[1] for spec in self._inputs]

        def raw_many(values: List[np.ndarray]) -> np.ndarray:
            for index, value in zip(indices, values):
                set_tensor(index, value)
            invoke()
            return get_tensor(out_index)

        return raw_many, fed


# --- checking ---------------------------------------------------------------------------------------

def compare_actions(original: np.ndarray, artifact: np.ndarray, discrete: bool) -> Dict[str, Any]:
    """The studio's metrics: agreement (discrete actions) or max and mean absolute error (Box actions)."""
    original = np.asarray(original)
    artifact = np.asarray(artifact).reshape(original.shape)
    n = len(original)
    if discrete:
        same = np.all((original == artifact).reshape(n, -1), axis=1)
        return {"count": n, "agreement_percent": float(100.0 * same.mean()), "disagreements": int((~same).sum())}
    error = np.abs(original.astype(np.float64) - artifact.astype(np.float64))
    error = np.where(np.isnan(error), np.inf, error)
    return {"count": n, "max_abs_error": float(error.max()), "mean_abs_error": float(error.mean())}


def judge_source(name: str, original: np.ndarray, predicted: np.ndarray, discrete: bool, extra: Optional[np.ndarray],
                 bounds: Optional[Dict[str, Any]]) -> Tuple[Dict[str, Any], List[str]]:
    """One source's metrics and what falls outside ``bounds``: the studio's judgement, written out.

    Box actions: the error against the original's float64 actions (``extra``) within the studio's bound
    for this source (its own float32 error times a multiple, plus a few ulps). Discrete actions:
    agreement, excusing disagreements where the original's choice is a float-precision tie (``extra``).
    """
    metrics = compare_actions(original, predicted, discrete)
    failures: List[str] = []
    if not bounds or bounds.get("measured_only"):
        return metrics, failures
    limits = bounds.get("sources", {}).get(name, {})
    n = len(original)
    if discrete:
        differ = ~np.all((np.asarray(original) == np.asarray(predicted).reshape(np.shape(original))).reshape(n, -1), axis=1)
        excused = differ & (extra if extra is not None else np.zeros(n, bool))
        agreement = 100.0 * (1 - (differ & ~excused).sum() / max(1, n - int(excused.sum())))
        metrics.update(float_ties_excused=int(excused.sum()), judged_agreement_percent=float(agreement))
        if agreement < bounds["min_agreement_percent"]:
            failures.append("%s: %.2f%% agreement < %g%%" % (name, agreement, bounds["min_agreement_percent"]))
    elif extra is not None and "max_error_vs_float64" in limits:
        error = np.abs(np.asarray(predicted, np.float64).reshape(extra.shape) - extra)
        error = np.where(np.isnan(error), np.inf, error).reshape(n, -1).max(axis=1)
        bound = limits["max_error_vs_float64"]
        metrics["float64"] = {"max_error": float(error.max()), "mean_error": float(error.mean()), "bound": bound}
        if not error.max() <= bound:
            failures.append("%s: max error %.3g against float64 > %.3g" % (name, error.max(), bound))
    elif "max_error" in limits and not metrics["max_abs_error"] <= limits["max_error"]:
        failures.append("%s: max error %.3g > %.3g" % (name, metrics["max_abs_error"], limits["max_error"]))
    ceiling = bounds.get("max_abs_error")
    if not discrete and ceiling is not None and not metrics["max_abs_error"] <= ceiling:
        failures.append("%s: max error %.3g > %g" % (name, metrics["max_abs_error"], ceiling))
    return metrics, failures


def latency(fn: Callable[[Any], Any], inputs: List[Any], calls: int, warmup: int) -> Dict[str, Any]:
    clock = time.perf_counter_ns
    n = len(inputs)
    for i in range(warmup):
        fn(inputs[i % n])
    durations = np.empty(calls, dtype=np.int64)
    for i in range(calls):
        value = inputs[i % n]
        start = clock()
        fn(value)
        durations[i] = clock() - start
    us = durations / 1e3
    return {"p50": float(np.percentile(us, 50)), "p90": float(np.percentile(us, 90)),
            "p99": float(np.percentile(us, 99)), "max": float(us.max()), "calls": int(calls)}


class Bundle:
    def __init__(self, folder: str) -> None:
        self.folder = folder
        path = os.path.join(folder, MANIFEST)
        try:
            with open(path) as handle:
                self.manifest = json.load(handle)
        except (OSError, ValueError) as exc:
            raise BundleDamaged("%s: cannot read the manifest (%s)" % (path, exc)) from None
        if not isinstance(self.manifest, dict) or self.manifest.get("format") != FORMAT:
            raise BundleDamaged("%s: not a %s manifest" % (path, FORMAT))
        self.io = self.manifest["io"]
        self.discrete = self.io.get("action_kind", "Box") != "Box"

    def file(self, entry: Dict[str, Any]) -> str:
        path = os.path.join(self.folder, os.path.basename(entry["file"]))  # never outside the bundle
        try:
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError as exc:
            raise BundleDamaged("%s: missing (%s)" % (path, exc.strerror or exc)) from None
        if "sha256" in entry and digest != entry["sha256"]:
            raise BundleDamaged("%s: damaged (its sha256 is not the manifest's)" % path)
        return path

    def golden(self) -> Dict[str, Any]:
        """Observations, the original's actions, each one's source, what float artifacts are judged against
        (float64 actions or float-precision ties), and the studio's own actions from each artifact."""
        with np.load(self.file(self.manifest["golden"]), allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        if self.io.get("dict_observation"):
            observations: Any = {spec["name"]: arrays["observation." + spec["name"]] for spec in self.io["inputs"]}
        else:
            observations = arrays["observation"]
        return {"observations": observations, "action": arrays["action"], "source": arrays["source"],
                "reference": arrays.get("float_tie", arrays.get("action64")),
                "studio": {key[len("studio."):]: value for key, value in arrays.items() if key.startswith("studio.")}}


def _rows(observations: Any, mask: np.ndarray) -> Any:
    if isinstance(observations, dict):
        return {key: value[mask] for key, value in observations.items()}
    return observations[mask]


def probe() -> Dict[str, Any]:
    module, interpreter = _interpreter_module()
    found: Dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine(),
                             "interpreter": interpreter, "edgetpu_delegate": False}
    try:
        load_edgetpu_delegate()
        found["edgetpu_delegate"], found["edgetpu_reason"] = True, "loaded %s" % EDGETPU_LIBRARY
    except Unavailable as exc:
        found["edgetpu_reason"] = "%s (%s)" % (exc.reason, exc.hint)
    try:
        import onnxruntime

        found["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        found["onnxruntime"] = None
    return found


def check_artifact(bundle: Bundle, key: str, golden: Dict[str, Any], calls: int, warmup: int) -> Dict[str, Any]:
    entry = bundle.manifest["artifacts"][key]
    delegate = entry.get("delegate", "cpu")
    result: Dict[str, Any] = {"artifact": key, "delegate": delegate}
    path = bundle.file(entry)
    try:
        policy = TFLitePolicy(load_interpreter(path, edgetpu=delegate == "edgetpu"), entry.get("io") or bundle.io)
    except Unavailable as exc:
        result.update(status="unavailable", reason=exc.reason, hint=exc.hint)
        return result
    observations, actions, reference = golden["observations"], golden["action"], golden["reference"]
    predicted = policy.predict(observations)
    bounds = bundle.manifest["bounds"].get(entry.get("kind", "float"))
    sources, failures = {}, []
    for number, name in enumerate(bundle.manifest["golden"]["sources"]):
        mask = golden["source"] == number
        if mask.any():
            sources[name], wrong = judge_source(name, actions[mask], predicted[mask], bundle.discrete,
                                                reference[mask] if reference is not None else None, bounds)
            failures += wrong
    verification: Dict[str, Any] = {"thresholds": bounds, "sources": sources, "passed": not failures,
                                    "failures": failures}
    if key in golden["studio"]:  # the same file run by the studio, on the same observations
        verification["same_as_studio"] = compare_actions(golden["studio"][key], predicted, bundle.discrete)
        if (bounds or {}).get("measured_only"):
            failures += _departs_from_studio(verification["same_as_studio"],
                                             compare_actions(actions, golden["studio"][key], bundle.discrete))
            verification.update(passed=not failures, failures=failures)
    result["verification"] = verification
    result["status"] = "passed" if not failures else "failed"
    if failures:
        result["reason"] = "; ".join(failures)
    singles = [_rows(observations, slice(i, i + 1)) for i in range(min(64, len(actions)))]  # a batch of one each
    result["latency_us"] = latency(policy.predict, singles, calls, warmup)
    raw, prepared = policy.raw_call_for(_rows(observations, slice(0, 1)))
    result["raw_latency_us"] = latency(raw, [prepared], calls, warmup)
    return result


def _departs_from_studio(device: Dict[str, Any], studio: Dict[str, Any]) -> List[str]:
    """int8 is judged in closed loop on the workstation; that verdict holds here only while this device
    computes what the studio computed from the same file. It fails when the device departs from the
    studio's actions by more than the studio's int8 departs from the original (at least 1 % of the
    choices for discrete actions, whose near-ties may round either way on other kernels)."""
    if "agreement_percent" in device:
        allowed = max(1.0, 100.0 - studio["agreement_percent"])
        if 100.0 - device["agreement_percent"] > allowed:
            return ["int8 on this device agrees with the studio's run of the same file on %.2f%% of the golden "
                    "observations (at most %.2f%% may differ)" % (device["agreement_percent"], allowed)]
        return []
    wrong = []
    for metric in ("max_abs_error", "mean_abs_error"):
        if device[metric] > max(studio[metric], 1e-6):
            wrong.append("int8 on this device departs from the studio's run of the same file by %s %.3g, more than "
                         "the studio's int8 departs from the original (%.3g)" % (metric.replace("_", " "),
                                                                                  device[metric], studio[metric]))
    return wrong


def check(bundle: Bundle, keys: List[str], calls: int, warmup: int) -> Dict[str, Any]:
    golden = bundle.golden()
    results = [check_artifact(bundle, key, golden, calls, warmup) for key in keys]
    return {"probe": probe(), "results": results}


# --- the command line -------------------------------------------------------------------------------

def _print_check(report: Dict[str, Any]) -> None:
    p = report["probe"]
    print("Python %s on %s; interpreter: %s; Edge TPU: %s" % (p["python"], p["machine"], p["interpreter"] or "none",
                                                               "yes" if p["edgetpu_delegate"] else "no"))
    for r in report["results"]:
        line = "%-12s %-8s %-11s" % (r["artifact"], r["delegate"], r["status"])
        if r["status"] == "unavailable":
            line += " %s (%s)" % (r["reason"], r["hint"])
        else:
            parts = []
            for name, m in r["verification"]["sources"].items():
                parts.append("%s %.2f%% agree" % (name, m["agreement_percent"]) if "agreement_percent" in m
                             else "%s max error %.2e" % (name, m["max_abs_error"]))
            line += " " + ", ".join(parts) + "; p50 %.1f us (raw %.1f us)" % (r["latency_us"]["p50"],
                                                                             r["raw_latency_us"]["p50"])
            if (r["verification"]["thresholds"] or {}).get("measured_only"):
                line += "; int8: judged in closed loop by the studio, matched here against the studio's run of the file"
            if r["status"] == "failed":
                line += "; " + r["reason"]
        print(line)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="sb3_runner.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    probe_parser = sub.add_parser("probe", help="what this device offers")
    probe_parser.add_argument("--json", action="store_true")
    check_parser = sub.add_parser("check", help="verify every model on the golden observations, and time it")
    check_parser.add_argument("--json", action="store_true")
    check_parser.add_argument("--calls", type=int, default=1000)
    check_parser.add_argument("--warmup", type=int, default=100)
    check_parser.add_argument("--artifact", action="append", metavar="KEY")
    predict_parser = sub.add_parser("predict", help="actions for observations in a .npy (or .npz for Dict) file")
    predict_parser.add_argument("observations")
    predict_parser.add_argument("--artifact", metavar="KEY")
    predict_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "probe":
        found = probe()
        print(json.dumps(found) if args.json else "\n".join("%s: %s" % item for item in found.items()))
        return EXIT_OK
    try:
        bundle = Bundle(os.path.dirname(os.path.abspath(__file__)))
        artifacts = bundle.manifest["artifacts"]
        if args.command == "check":
            keys = args.artifact or list(artifacts)
            unknown = [key for key in keys if key not in artifacts]
            if unknown or args.calls < 1 or args.warmup < 0:
                print("error: unknown artifact(s) %s; the bundle has %s" % (", ".join(unknown), ", ".join(artifacts))
                      if unknown else "error: --calls must be at least 1 and --warmup at least 0", file=sys.stderr)
                return EXIT_USAGE
            report = check(bundle, keys, args.calls, args.warmup)
            if args.json:
                print(json.dumps(report))
            else:
                _print_check(report)
            return EXIT_FAILED if any(r["status"] == "failed" for r in report["results"]) else EXIT_OK
        return _predict(bundle, args)
    except BundleDamaged as exc:
        print("error: bundle damaged: %s" % exc, file=sys.stderr)
        return EXIT_USAGE


def _predict(bundle: Bundle, args: argparse.Namespace) -> int:
    artifacts = bundle.manifest["artifacts"]
    key = args.artifact or next((k for k in ("tflite_fp32", "tflite_int8") if k in artifacts), next(iter(artifacts)))
    if key not in artifacts:
        print("error: unknown artifact %s; the bundle has %s" % (key, ", ".join(artifacts)), file=sys.stderr)
        return EXIT_USAGE
    try:
        loaded = np.load(args.observations, allow_pickle=False)
        observations = loaded if isinstance(loaded, np.ndarray) else {k: loaded[k] for k in loaded.files}
    except (OSError, ValueError) as exc:
        print("error: %s: cannot read observations (%s)" % (args.observations, exc), file=sys.stderr)
        return EXIT_USAGE
    entry = artifacts[key]
    try:
        policy = TFLitePolicy(load_interpreter(bundle.file(entry), edgetpu=entry.get("delegate") == "edgetpu"),
                              entry.get("io") or bundle.io)
    except Unavailable as exc:
        print("error: %s not available: %s (%s)" % (key, exc.reason, exc.hint), file=sys.stderr)
        return EXIT_FAILED
    try:
        actions = policy.predict(observations)
    except (ValueError, KeyError) as exc:
        print("error: %s: these observations do not fit the policy (%s)" % (args.observations, exc), file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"artifact": key, "actions": actions.tolist()}))
    else:
        for action in actions:
            print(" ".join(str(v) for v in np.ravel(action)))
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
