"""What every artifact of a run is judged against, computed once per run.

* :func:`float_reference`: the original evaluated in float64 on the run's observations (open loop);
* :func:`closed_loop_reference`: the original's, a random policy's and the noise floor's returns per
  seed (closed loop). The TFLite stage starts playing them in a thread while onnx2tf works in its own
  process, so the two use the machine's cores at once; the verification stages then find them ready.
"""

from __future__ import annotations

import threading
from typing import Any

from ...closed_loop import Reference
from ...errors import Cancelled, EnvironmentUnavailableError
from ...float_reference import FloatReference
from ..context import Progress, RunContext

_LOCK = threading.Lock()


def float_reference(ctx: RunContext) -> FloatReference:
    with _LOCK:
        if "float_reference" not in ctx.cache:
            assert ctx.loaded is not None
            ctx.cache["float_reference"] = FloatReference(ctx.loaded)
        return ctx.cache["float_reference"]


def closed_loop_reference(ctx: RunContext, progress: Progress | None = None) -> Reference | None:
    """The run's closed-loop reference, or None (with a warning) when the environment cannot be made here."""
    with _LOCK:
        if "closed_loop" not in ctx.cache:
            ctx.cache["closed_loop"] = _new_reference(ctx)
    reference = ctx.cache["closed_loop"]
    if reference is None and progress is not None:
        progress.warn(f"no closed-loop check: {ctx.notes.get('environment_problem', 'the environment cannot be made here')}")
    return reference


def _new_reference(ctx: RunContext) -> Reference | None:
    loaded = ctx.loaded
    assert loaded is not None
    try:
        recipe = loaded.env_recipe()
    except EnvironmentUnavailableError as exc:
        ctx.notes["environment_problem"] = exc.problem
        return None
    ctx.notes["environment"] = recipe.to_json()
    return Reference(loaded.predict, loaded.make_env, loaded.observation_space, loaded.action_space, ctx.spec.seed)


def closed_loop_json(ctx: RunContext) -> dict[str, Any] | None:
    reference = ctx.cache.get("closed_loop")
    if reference is None or not reference.returns["original"]:
        return None
    return {"env_id": ctx.loaded.env_id if ctx.loaded else None, **reference.to_json()}


def start_reference(ctx: RunContext, cancel: threading.Event) -> threading.Thread:
    """Play the reference episodes in a thread (while onnx2tf runs in its process)."""

    def check() -> None:
        if cancel.is_set():
            raise Cancelled()

    def work() -> None:
        reference = closed_loop_reference(ctx)
        if reference is not None:
            try:
                reference.ensure(ctx.spec.episodes, check)
            except Cancelled:
                pass

    thread = threading.Thread(target=work, name="sb3-studio-reference", daemon=True)
    thread.start()
    return thread
