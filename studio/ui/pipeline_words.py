"""What the Pipeline tab says about the selected model: its title, its status line, and why a button
is off. Plain functions of the model and the controller (one conversion at a time)."""

from __future__ import annotations

from typing import Any

from studio.core.session import ModelEntry

from .words import why_unusable

RUN_STATUS = {
    "passed": "Run passed",
    "failed": "Run failed: see the red rows (select one for its details)",
    "cancelled": "Run cancelled: the unfinished stage kept no outputs",
}


def title_text(entry: ModelEntry | None) -> str:
    if entry is None:
        return "Select a model in the browser."
    if entry.error:
        return f"{entry.label}: cannot be read"
    if entry.kind != "sb3":
        return f"{entry.label}: a {entry.kind.upper()} file (view its graph, or benchmark it)"
    if entry.info is None:
        return f"{entry.label}: loading…"
    return f"{entry.label}  ·  {entry.info['algorithm']}  ·  {entry.env_id or 'no environment named'}"


def why_not_run(entry: ModelEntry | None, controller: Any) -> str | None:
    """None when the selected model can be converted now; else the reason, in words."""
    why = why_unusable(entry, "convert")
    if why is not None:
        return why
    if entry.kind != "sb3":
        return f"{entry.label} is already an {entry.kind.upper()} file: only SB3 models (.zip) are converted."
    if controller.running:
        other = controller.entry
        if other is entry:
            return f"{entry.label} is being converted (Esc cancels)."
        return (f"{other.label if other else 'Another model'} is being converted: one conversion at a time "
                "(wait, or cancel it from its Pipeline tab).")
    return None


def status_text(entry: ModelEntry | None, controller: Any) -> str:
    if entry is None:
        return ""
    state = entry.pipeline
    if state.running:
        if controller.cancelling and controller.entry is entry:
            return "Cancelling: the current stage stops at its next check; its outputs are not kept."
        return f"Converting into {state.run_dir}…"
    if entry.kind != "sb3" or entry.info is None:
        return ""
    if state.status in RUN_STATUS:
        where = state.run_dir or entry.run_dir
        return f"{RUN_STATUS[state.status]}. Folder: {where}"
    if controller.running and controller.entry is not entry:
        return f"Not converted yet. {controller.entry.label if controller.entry else 'Another model'} is converting now."
    return f"Not converted yet. Run (Ctrl+R) converts into {entry.run_dir}."


def buttons_state(entry: ModelEntry | None, controller: Any) -> dict[str, tuple[bool, str]]:
    """Button name -> (enabled, tooltip that says why when it is off)."""
    why = why_not_run(entry, controller)
    folder = entry.run_dir if entry is not None else None
    graphs = entry.graphs() if entry is not None else []
    cancellable = controller.running and controller.entry is entry
    return {
        "run": (why is None, why or "Convert and verify (Ctrl+R)"),
        "cancel": (cancellable, "Stop the conversion (Esc)" if cancellable else "No conversion of this model is running."),
        "open": (bool(folder and folder.is_dir()),
                 f"Open {folder}" if folder and folder.is_dir() else "No run folder yet: convert the model first."),
        "copy": (bool(entry and entry.convertible),
                 "Copy the sb3-studio convert command that reproduces this run"
                 if entry and entry.convertible else "Only an SB3 model has a convert command."),
        "graph": (bool(graphs), "Choose an artifact to open in Netron" if graphs
                  else "No ONNX or TFLite file yet: convert the model first."),
    }
