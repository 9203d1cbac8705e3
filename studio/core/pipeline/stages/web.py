"""Stage: the browser target, ``web/``: the ONNX graph, ``policy.js`` on onnxruntime-web, a demo page
that checks itself on example observations, and the runtime's files (no CDN). Verified by running that
same ``policy.js`` under Node, open loop and closed loop, with the float bounds.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import VerificationFailed
from ...runtimes.base import RuntimeUnavailable
from ...runtimes.ort_web import OrtWebRuntime
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult
from .deploy_common import folder_artifact, judgement, not_carried, staged_folder

FOLDER = "web"
EXAMPLES = 16


class WebStage:
    name = "web"
    cacheable = True
    blocking = False

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"{FOLDER}/: policy.onnx with policy.js (onnxruntime-web), a demo page and the runtime's "
                         "files; verified under Node", [FOLDER])

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        from ...deploy.web import find_node, find_ort_web, write_web_folder
        from ..assess import assess
        reason = not_carried(ctx, "the browser target")
        if reason:
            return StageResult("", skipped=reason)

        loaded, io = ctx.loaded, ctx.io
        assert loaded is not None and io is not None
        try:
            ort = find_ort_web()
            find_node()
        except RuntimeUnavailable as exc:  # nothing could check the folder: hand over none
            return StageResult("", skipped=f"not available: {exc.reason}; to install: {exc.hint}")
        bounds = judgement("float", ctx.spec)
        space = loaded.observation_space
        env_shapes = ({key: list(sub.shape) for key, sub in space.spaces.items()} if io.dict_observation
                      else {io.inputs[0].name: list(space.shape)})
        with staged_folder(ctx, FOLDER) as work:
            write_web_folder(work, ctx.run_dir / ctx.artifacts["onnx"].path, io.to_json(), env_shapes,
                             self._examples(ctx, bounds), ort)
            progress.set(0.1, "loading onnxruntime-web under Node")
            runtime = OrtWebRuntime(work)
            try:
                report, text = assess(ctx, runtime.predict, bounds, "onnxruntime-web", progress)
                progress.set(0.95, "latency inside Node")
                latency = runtime.latency_in_node()
            finally:
                runtime.close()
        details = {"onnxruntime_web": ort.version, "node": runtime.node_version, "latency_in_node_us": latency,
                   "serve": f"python3 -m http.server --directory {FOLDER}"}
        artifact = folder_artifact(ctx, "web", FOLDER, report, details)
        progress.log(f"onnxruntime-web {ort.version} under Node {runtime.node_version}: {text}; in Node, predict "
                     f"{latency['predict_p50_us']:.0f} us, session.run {latency['raw_p50_us']:.0f} us (p50)")
        if not report["passed"]:
            raise VerificationFailed(ctx.run_dir / FOLDER, "verification failed: " + "; ".join(report["failures"]))
        return StageResult(text, artifact)

    @staticmethod
    def _examples(ctx: RunContext, bounds: Any) -> dict[str, Any]:
        """A few verification observations, the original's actions and the studio's float judgement of
        them (float64 actions and the bound, or float-precision ties), for the page's self-check."""
        from ...observations import ObservationSet
        from ...verification import error_bound, fallback_bound, float_ties
        from .reference import float_reference

        loaded = ctx.loaded
        assert loaded is not None
        source = ctx.observations[0]
        batch = source.batch
        if isinstance(batch, dict):
            batch = {key: np.asarray(value[:EXAMPLES]) for key, value in batch.items()}
            observations = [{key: value[i].tolist() for key, value in batch.items()} for i in range(EXAMPLES)]
        else:
            batch = np.asarray(batch[:EXAMPLES])
            observations = [row.tolist() for row in batch]
        reference = float_reference(ctx)
        ref = reference.of(ObservationSet(f"{source.source}-examples", batch, {}))
        examples: dict[str, Any] = {"model": f"{loaded.algo} {loaded.env_id or ''}".strip(),
                                    "observations": observations, "actions": np.asarray(ref.actions).tolist()}
        if reference.discrete:
            examples["float_ties"] = float_ties(ref, bounds).tolist()
        elif ref.actions64 is not None and ref.own_error is not None:
            examples.update(actions64=ref.actions64.tolist(), bound=error_bound(ref, bounds))
        else:
            examples.update(actions64=np.asarray(ref.actions, np.float64).tolist(), bound=fallback_bound(ref.actions))
        return examples
