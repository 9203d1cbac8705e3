"""Stage: the observations every artifact is verified on (and later calibrated on).

Two sources: samples from the observation space, and observations the original policy visits in its
environment. When the environment cannot be made here, only samples are used, and the run says so.
"""

from __future__ import annotations

from ...envs import make_env
from ...errors import EnvironmentUnavailableError
from ...observations import rollout_observations, sample_observations
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult


class ObservationsStage:
    name = "observations"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(
            f"sample {spec.samples} observations from the space and roll out the original for "
            f"{spec.rollout_steps} steps (seed {spec.seed})"
        )

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        loaded, spec = ctx.loaded, ctx.spec
        assert loaded is not None
        sampled = sample_observations(loaded.observation_space, spec.samples, spec.seed, loaded.normalization)
        ctx.observations = [sampled]
        if spec.rollout_steps <= 0:
            ctx.notes["rollout"] = "not asked for (--rollout-steps 0)"
            return StageResult(f"{len(sampled)} sampled; no rollout asked for")
        try:
            make_env(loaded.env_id).close()
        except EnvironmentUnavailableError as exc:
            reason = f"no rollout observations: {exc.problem}" + (f" ({exc.hint})" if exc.hint else "")
            ctx.notes["rollout"] = reason
            progress.warn(reason + "; verifying on sampled observations only")
            return StageResult(f"{len(sampled)} sampled; {reason}")
        rollout = rollout_observations(
            lambda: make_env(loaded.env_id),
            loaded.predict,
            spec.rollout_steps,
            spec.seed,
            check=progress.check,
            progress=lambda f: progress.set(f, "rolling out the original policy"),
        )
        ctx.observations.append(rollout)
        episodes = rollout.detail["episodes_completed"]
        mean = f", mean return {rollout.detail['mean_return']:.1f}" if episodes else ""
        return StageResult(f"{len(sampled)} sampled, {len(rollout)} visited in {loaded.env_id} ({episodes} episodes{mean})")
