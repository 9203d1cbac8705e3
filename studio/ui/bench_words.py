"""What the Benchmark tab says about the selected model: title, status, why a button is off."""

from __future__ import annotations

from typing import Any

from studio.core.labels import runtime_label
from studio.core.session import ModelEntry

from .words import why_unusable


def runtimes_for(entry: ModelEntry | None) -> list[str]:
    """The runtimes the core offers for the model's run (the original, its artifacts, the Edge TPU)."""
    if entry is None or not entry.converted:
        return []
    from studio.core.bench.targets import targets_for_run

    try:
        return [target.name for target in targets_for_run(entry.run_dir)]
    except (FileNotFoundError, KeyError):
        return []


def title_text(entry: ModelEntry | None) -> str:
    if entry is None:
        return "Select a converted model to benchmark its runtimes."
    if entry.kind != "sb3":
        return f"{entry.label}: open the SB3 model it came from to compare its runtimes"
    if entry.converted:
        return f"{entry.label} · run {entry.run_dir.name}"
    return f"{entry.label}: not converted yet"


def why_not_run(entry: ModelEntry | None, controller: Any, runtimes: list[str],
                devices: list[str] | None = None) -> str | None:
    why = why_unusable(entry, "benchmark")
    if why is not None:
        return why
    if entry.kind != "sb3":
        return (f"{entry.label} is a {entry.kind.upper()} file: the benchmark measures every runtime of a converted "
                "SB3 model against the original; open the model it came from.")
    if not entry.converted:
        return f"Convert {entry.label} first (Pipeline tab, Ctrl+R): the benchmark measures its artifacts."
    if controller.running:
        other = controller.entry
        return (f"{other.label if other else 'Another model'} is being benchmarked: one benchmark at a time "
                "(the measurements would disturb each other).")
    if not runtimes:
        return "Tick at least one runtime to measure."
    if devices and not (entry.run_dir / "bundle" / "manifest.json").is_file():
        return (f"{entry.label}'s run has no device bundle to run on {', '.join(devices)}: convert it with "
                "'Device bundle (Raspberry Pi)' ticked (Pipeline tab), or pick no device.")
    return None


def status_text(entry: ModelEntry | None, controller: Any) -> tuple[str, str]:
    """A few short lines, and the details (how to install what is missing) for the tooltip."""
    if entry is None:
        return "", ""
    state = entry.bench
    lines, details = [], []
    if state.running:
        if controller.cancelling:
            lines.append("Cancelling: the benchmark stops after the current measurement.")
        elif state.device_now:
            lines.append(f"Running the bundle's check on {state.device_now} over SSH "
                         f"(device {state.devices_done + 1} of {len(state.devices)})…")
        elif len(state.ready) + len(state.unavailable) < len(state.expected):
            done = len(state.ready) + len(state.unavailable)
            lines.append(f"Loading the runtimes, each in its own process ({done} of {len(state.expected)})…")
        else:
            lines.append(f"Measuring in interleaved rounds: {state.measured} of {state.rounds * len(state.ready)} done…")
    elif state.error:
        lines.append(f"Benchmark failed: {state.error}")
    elif state.results is not None:
        lines.append(_summary(state.results))
    elif state.cancelled:
        lines.append("Cancelled: " + ("the samples measured so far are shown; " if state.samples else "")
                     + "nothing was kept (earlier benchmarks: Compare with).")
    else:
        why = why_not_run(entry, controller, ["any"])
        lines.append(why or "Not measured yet: Benchmark (Ctrl+B) measures each runtime in its own process, "
                            "in interleaved rounds.")
    for name, (reason, hint) in state.unavailable.items():
        lines.append(f"{runtime_label(name)}: not available here ({reason.split(':')[0]}); hover for how to install")
        details.append(f"{runtime_label(name)}: {reason}. To install: {hint}")
    if controller.running and controller.entry is not entry:
        lines.append(f"{controller.entry.label} is being benchmarked now.")
    return "\n".join(lines), "\n".join(details)


def _summary(results: dict[str, Any]) -> str:
    measured = {name: e["batches"]["1"] for name, e in results.get("runtimes", {}).items()
                if e.get("available") and "1" in e.get("batches", {})}
    if not measured:
        return "No runtime could be measured."
    fastest = min(measured, key=lambda n: measured[n]["p50_us"])
    stats = measured[fastest]
    speedup = stats.get("speedup_vs_sb3_p50")
    overhead = min(s.get("harness_overhead_us", 0.0) for s in measured.values())
    when = str(results.get("finished", ""))[:16]
    text = (f"{len(measured)} runtimes measured{' ' + when if when else ''}: fastest {runtime_label(fastest)}, "
            f"p50 {stats['p50_us']:.1f} µs")
    text += f", {speedup:.0f}× SB3's predict" if speedup else ""
    return text + f" (harness overhead {overhead:.2f} µs per call, included)."


def buttons_state(entry: ModelEntry | None, controller: Any) -> dict[str, tuple[bool, str]]:
    why = why_not_run(entry, controller, ["any"])
    mine = controller.running and controller.entry is entry
    results = entry is not None and entry.bench.results is not None and not entry.bench.running
    no_results = "Nothing to export yet: benchmark this model first (Ctrl+B)."
    return {
        "run_button": (why is None, why or "Measure every ticked runtime, each in its own process (Ctrl+B)"),
        "cancel_button": (mine, "Stop the benchmark (Esc)" if mine else "No benchmark of this model is running."),
        "export_button": (results, "Save the chart on show (PNG, titled with the model and run), the results (CSV) "
                                   "or every sample (JSON)" if results else no_results),
    }
