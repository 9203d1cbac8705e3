"""A minimal device-bundle runner that follows BUNDLE.md, for the device tests until ``--to bundle``
lands: flat float observations, one TFLite input and output. Python 3.9+, numpy and a TFLite
interpreter (ai-edge-litert or tflite-runtime) only.
"""

import argparse
import json
import platform
import sys
import time

import numpy as np


def _interpreter():
    try:
        from ai_edge_litert import interpreter as module
        from importlib.metadata import version
        return module, "ai_edge_litert " + version("ai-edge-litert")
    except ImportError:
        pass
    try:
        from tflite_runtime import interpreter as module
        return module, "tflite_runtime " + getattr(__import__("tflite_runtime"), "__version__", "?")
    except ImportError:
        return None, None


def probe():
    module, name = _interpreter()
    delegate, reason = False, "no TFLite interpreter"
    if module is not None:
        try:
            module.load_delegate("libedgetpu.so.1")
            delegate, reason = True, ""
        except (OSError, ValueError) as exc:
            reason = "cannot load libedgetpu.so.1: %s" % str(exc).splitlines()[0]
    try:
        import onnxruntime
        ort = onnxruntime.__version__
    except ImportError:
        ort = None
    return {"python": platform.python_version(), "machine": platform.machine(), "interpreter": name,
            "edgetpu_delegate": delegate, "edgetpu_reason": reason, "onnxruntime": ort}


def _percentiles(values):
    us = np.asarray(values, dtype=np.float64) / 1e3
    return {"p50": float(np.percentile(us, 50)), "p90": float(np.percentile(us, 90)),
            "p99": float(np.percentile(us, 99)), "max": float(us.max()), "mean": float(us.mean()), "calls": len(us)}


def _check_one(module, key, artifact, manifest, golden, args):
    delegate = "edgetpu" if artifact.get("delegate") == "edgetpu" else "cpu"
    result = {"artifact": key, "delegate": delegate}
    try:
        delegates = [module.load_delegate("libedgetpu.so.1")] if delegate == "edgetpu" else None
        interp = module.Interpreter(model_path=artifact["file"], experimental_delegates=delegates)
        interp.allocate_tensors()
    except (OSError, ValueError, RuntimeError) as exc:
        return dict(result, status="unavailable", reason=str(exc).splitlines()[0],
                    hint="install libedgetpu1-std (https://coral.ai/docs/accelerator/get-started/) and plug in a Coral")
    inp, out = interp.get_input_details()[0]["index"], interp.get_output_details()[0]["index"]
    buffer = np.zeros(interp.get_input_details()[0]["shape"], dtype=np.float32)

    def predict(observation):
        buffer[0] = observation
        interp.set_tensor(inp, buffer)
        interp.invoke()
        return interp.get_tensor(out)[0]

    observations, expected = golden["observation"], golden["action"]
    actions = np.stack([predict(o) for o in observations]).reshape(expected.shape)
    discrete = manifest["io"]["action_kind"] != "Box"
    bounds = manifest["bounds"][artifact["kind"]]
    if discrete:
        agreement = float(100.0 * np.mean(np.all((actions == expected).reshape(len(expected), -1), axis=1)))
        verification = {"count": len(expected), "agreement_percent": agreement}
        passed = agreement >= bounds["min_agreement_percent"]
    else:
        error = np.abs(actions.astype(np.float64) - expected)
        verification = {"count": len(expected), "max_abs_error": float(error.max()), "mean_abs_error": float(error.mean())}
        passed = verification["max_abs_error"] <= bounds["max_abs_error"]
    for observation in observations[: args.warmup]:
        predict(observation)
    durations = []
    for i in range(args.calls):
        start = time.perf_counter_ns()
        predict(observations[i % len(observations)])
        durations.append(time.perf_counter_ns() - start)
    raw = []
    for _ in range(args.calls):
        start = time.perf_counter_ns()
        interp.set_tensor(inp, buffer)
        interp.invoke()
        interp.get_tensor(out)
        raw.append(time.perf_counter_ns() - start)
    result.update(status="passed" if passed else "failed", verification=verification,
                  latency_us=_percentiles(durations), raw_latency_us=_percentiles(raw))
    if not passed:
        result["reason"] = "outside the bounds %s" % json.dumps(bounds)
    return result


def check(args):
    with open("manifest.json") as handle:
        manifest = json.load(handle)
    golden = np.load(manifest["golden"]["file"])
    module, _ = _interpreter()
    results = []
    for key, artifact in manifest["artifacts"].items():
        if args.artifact and key not in args.artifact:
            continue
        if module is None:
            results.append({"artifact": key, "delegate": "cpu", "status": "unavailable",
                            "reason": "no TFLite interpreter", "hint": "python3 -m pip install ai-edge-litert"})
            continue
        results.append(_check_one(module, key, artifact, manifest, golden, args))
    return {"probe": probe(), "results": results}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("probe")
    p.add_argument("--json", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("--json", action="store_true")
    c.add_argument("--calls", type=int, default=1000)
    c.add_argument("--warmup", type=int, default=50)
    c.add_argument("--artifact", action="append")
    args = parser.parse_args()
    out = probe() if args.command == "probe" else check(args)
    print(json.dumps(out))
    failed = args.command == "check" and any(r["status"] == "failed" for r in out["results"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
