"""Stage: the observations every artifact is verified on (and later calibrated on).

Two sources, reported apart: observations the original policy visits in its environment (first: they
are what matters), and samples from the observation space within the range the policy visits. When
the environment cannot be made here, only samples are used (within VecNormalize's mean +- 3 std, or
the space's bounds), and the run says so.
"""

from __future__ import annotations

from ...carried import sampled_for
from ...errors import EnvironmentUnavailableError
from ...observations import rollout_observations
from ..context import Progress, RunContext
from ..spec import ConvertSpec
from .base import StagePlan, StageResult


class ObservationsStage:
    name = "observations"

    def plan(self, spec: ConvertSpec) -> StagePlan:
        return StagePlan(
            f"roll out the original for {spec.rollout_steps} steps and sample {spec.samples} observations "
            f"within the range it visits (seed {spec.seed})"
        )

    def run(self, ctx: RunContext, progress: Progress) -> StageResult:
        loaded, spec = ctx.loaded, ctx.spec
        assert loaded is not None
        rollout = None
        reason = "no rollout asked for (--rollout-steps 0)"
        if spec.rollout_steps > 0:
            try:
                loaded.env_recipe()
            except EnvironmentUnavailableError as exc:
                reason = f"no rollout observations: {exc.problem}" + (f" ({exc.hint})" if exc.hint else "")
                progress.warn(reason + "; verifying on sampled observations only")
            else:
                rollout = rollout_observations(loaded.make_env, loaded.predict, spec.rollout_steps, spec.seed,
                                               check=progress.check,
                                               progress=lambda f: progress.set(0.9 * f, "rolling out the original policy"))
        sampled = sampled_for(loaded, spec.samples, spec.seed, rollout)  # with masks, episode starts where needed
        if rollout is None:
            ctx.notes["rollout"] = reason
            ctx.observations = [sampled]
            return StageResult(f"{len(sampled)} sampled; {reason}")
        ctx.observations = [rollout, sampled]
        episodes = rollout.detail["episodes_completed"]
        mean = f", mean return {rollout.detail['mean_return']:.1f}" if episodes else ""
        return StageResult(f"{len(rollout)} visited in {loaded.env_id} ({episodes} episodes{mean}), "
                           f"{len(sampled)} sampled within that range")
