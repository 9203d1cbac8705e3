"""The original's closed-loop returns, the reference every artifact's closed loop is scored against.

Computed once per run. The TFLite stage starts it in a thread while onnx2tf works in its own process,
so the two use the machine's cores at once; the verification stages then find it ready.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ...closed_loop import episode_returns, random_returns, summary
from ...envs import make_env
from ...errors import Cancelled, EnvironmentUnavailableError
from ..context import Progress, RunContext


def original_closed_loop(ctx: RunContext, progress: Progress) -> dict[str, Any] | None:
    """The original's and a random policy's returns over the run's seeds (computed once per run)."""
    with _REFERENCE_LOCK:
        if "closed_loop" not in ctx.notes:
            ctx.notes["closed_loop"] = reference_returns(ctx, progress.check)
    if ctx.notes["closed_loop"] is None:
        progress.warn(f"no closed-loop check: the environment {ctx.loaded.env_id if ctx.loaded else ''} "
                      "cannot be made here")
    return ctx.notes["closed_loop"]


def reference_returns(ctx: RunContext, check: Callable[[], None]) -> dict[str, Any] | None:
    loaded, spec = ctx.loaded, ctx.spec
    assert loaded is not None
    try:
        make_env(loaded.env_id).close()
    except EnvironmentUnavailableError:
        return None
    original = episode_returns(loaded.predict, loaded.env_id, spec.episodes, spec.seed, check)
    random = random_returns(loaded.env_id, spec.episodes, spec.seed)
    return {"env_id": loaded.env_id, "seed": spec.seed, "original": summary(original), "random": summary(random)}


def start_reference(ctx: RunContext, cancel: threading.Event) -> threading.Thread:
    """Compute the original's closed-loop returns in a thread (while onnx2tf runs in its process)."""

    def check() -> None:
        if cancel.is_set():
            raise Cancelled()

    def work() -> None:
        with _REFERENCE_LOCK:
            if "closed_loop" in ctx.notes:
                return
            try:
                ctx.notes["closed_loop"] = reference_returns(ctx, check)
            except Cancelled:
                pass

    thread = threading.Thread(target=work, name="sb3-studio-reference", daemon=True)
    thread.start()
    return thread


_REFERENCE_LOCK = threading.Lock()


