"""What the Rollouts tab says: its title, the runtimes it offers, why it cannot play, the real rate."""

from __future__ import annotations

from typing import Any

from studio.core.labels import runtime_label
from studio.core.session import ModelEntry, RolloutState

from .words import why_unusable


def title_text(entry: ModelEntry | None) -> str:
    if entry is None:
        return "Select a model (converted models show every runtime)."
    if entry.info is None:
        return f"{entry.label}: {'loading…' if not entry.loaded else 'no environment to play'}"
    env = entry.info.get("environment") or {}
    where = env.get("id") or "an unknown environment"
    suffix = "" if env.get("can_make", True) else f": {env.get('reason')}"
    return f"{entry.label} in {where}{suffix}"


def runtimes_for(entry: ModelEntry | None, order: list[str]) -> list[str]:
    """The original, each runtime whose artifact the model's run holds, and the Edge TPU (which says
    why it cannot run here when it cannot)."""
    if entry is None or entry.info is None:
        return []
    from studio.core.bench.targets import RUNTIMES

    keys = {a.key for a in entry.run.artifacts()} if entry.converted else set()
    offered = ["sb3"] + [name for name, key in RUNTIMES.items() if key and key in keys]
    if "tflite_int8" in keys:
        offered.append("edgetpu")
    return [name for name in order if name in offered] + [n for n in offered if n not in order]


def why_not_play(entry: ModelEntry | None, settings: Any) -> str | None:
    why = why_unusable(entry, "play")
    if why is not None:
        return why
    if entry.kind != "sb3":
        return f"{entry.label} is a {entry.kind.upper()} file: open its SB3 model to play it."
    env = entry.info.get("environment") or {}
    if not env.get("id"):
        return f"{entry.label} names no environment to play."
    if not env.get("can_make", True):
        return f"{env['id']} cannot be made here: {env.get('reason')}"
    return None


def rate_text(measured: float | None, asked: float | None, live: bool = False) -> str:
    if measured is None:
        return ""
    verb = "Playing at" if live else "Played at"
    text = f"{verb} {measured:.0f} steps per second"
    if asked:
        text += f" (asked {asked:.0f})"
        if measured < 0.9 * asked:
            text += ": stepping every runtime and environment and drawing them takes longer than that here"
    return text


def result_text(state: RolloutState) -> str:
    settings = state.settings
    episodes = settings.get("episodes", "?")
    text = f"Last rollout: {episodes} episode{'' if episodes == 1 else 's'} from seed {settings.get('seed', '?')}"
    if state.recording is not None:
        text += f", recorded to {state.recording}" if state.recording.exists() else f"; its recording {state.recording} is gone"
    text += ". Play starts a new one."
    return "\n".join([text, *state.notes])
