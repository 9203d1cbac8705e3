"""Stage: load the model safely and describe it."""

from __future__ import annotations

from ...atomic import sha256_file
from ...inspection import inspect_model
from ...loading import load_model
from ...spaces import short_space
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult


class LoadStage:
    name = "load"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(f"load {spec.model.name} without running code from it" + (" (--trust)" if spec.trust else ""))

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        spec = ctx.spec
        if ctx.loaded is None:
            ctx.loaded = load_model(spec.model, env_id=spec.env_id, vecnormalize=spec.vecnormalize, trust=spec.trust,
                                    env_module=spec.env_module)
        progress.set(0.6, "checking the environment")
        info = inspect_model(ctx.loaded)
        info["sha256"] = sha256_file(spec.model)
        info["resolved"] = str(spec.model.resolve())
        ctx.notes["model"] = info
        for note in ctx.loaded.notes:
            progress.log(note)
        loaded = ctx.loaded
        obs, action = short_space(loaded.observation_space), short_space(loaded.action_space)
        return StageResult(f"{loaded.algo}, {obs} -> {action}, {info['parameters']:,} parameters")
