"""Why the selected model cannot be used for something: the reasons every tab shares."""

from __future__ import annotations

from studio.core.session import ModelEntry


def why_unusable(entry: ModelEntry | None, doing: str) -> str | None:
    """None when ``entry`` is there, readable and loaded; else why ``doing`` ("convert"...) cannot start."""
    if entry is None:
        return f"Nothing to {doing}: select a model in the browser (or open one with Ctrl+O)."
    if entry.error:
        return f"{entry.label} cannot be read: {entry.error}"
    if not entry.loaded:
        return f"{entry.label} is still loading: try again in a moment."
    return None
