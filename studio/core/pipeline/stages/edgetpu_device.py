"""Stage: the compiled Edge TPU model, run on a real Coral over SSH against the bundle's golden vectors.

The device is ``--coral-device NAME``, or else the first device whose last ``device check`` found a
Coral and loaded its delegate. With none configured the stage is skipped and says how to add one;
a configured Coral that cannot run the model now is a failure, in the device's own words.
"""

from __future__ import annotations

from ...errors import StageError, VerificationFailed
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult

CALLS, WARMUP = 1000, 100


class EdgeTPUDeviceStage:
    name = "edgetpu-device"
    cacheable = True  # again only when the model, the bundle or the device changes
    blocking = False
    touches = ["edgetpu"]

    def plan(self, spec: ConvertSpec) -> StagePlan:
        where = spec.coral_device or "the configured device with a Coral, if any"
        return StagePlan(f"run policy_int8_edgetpu.tflite on {where} against the bundle's golden vectors (over SSH)")

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        from ...devices.remote_bench import check_remote
        from ...devices.store import DeviceStore

        if "edgetpu" not in ctx.artifacts or "bundle" not in ctx.artifacts:
            return StageResult("", skipped="no Edge TPU model in the bundle (the compile stage did not run)")
        store = DeviceStore()
        if ctx.spec.coral_device:
            device = store.get(ctx.spec.coral_device)
        else:
            device = next((d for d in store.devices().values() if d.has_coral), None)
        if device is None:
            return StageResult("", skipped="no device with a Coral is configured (sb3-studio device add NAME "
                                           "ssh://user@host, then 'device check NAME' finds the Coral)")
        progress.set(0.1, f"running the Edge TPU model on {device.name}")
        bundle = ctx.run_dir / ctx.artifacts["bundle"].path
        check = check_remote(device, store, bundle, calls=CALLS, warmup=WARMUP, artifacts=["edgetpu"],
                             cancel=progress.cancelled)
        result = next((r for r in check["results"] if r.get("artifact") == "edgetpu"), None)
        if result is None:
            raise StageError(bundle, f"the runner on {device.name} did not run the Edge TPU model")
        ctx.artifacts["edgetpu"].details["on_device"] = {"device": device.name, "url": device.url,
                                                         "probe": check.get("probe"), **result}
        if result.get("status") == "unavailable":
            raise StageError(device.name, f"the Edge TPU could not run there: {result.get('reason')}", result.get("hint"))
        if result.get("status") != "passed":
            raise VerificationFailed(device.name, f"the Edge TPU model failed its check there: {result.get('reason')}")
        latency = result.get("latency_us") or {}
        return StageResult(f"passed on {device.name}'s Coral: {_agreement(result.get('verification') or {})}, "
                           f"p50 {latency.get('p50', 0):.1f} us, p99 {latency.get('p99', 0):.1f} us")


def _agreement(verification: dict) -> str:
    if "agreement_percent" in verification:
        return f"{verification['agreement_percent']:.1f} % agreement"
    if "max_abs_error" in verification:
        return f"max error {verification['max_abs_error']:.3g}"
    return "checked"
