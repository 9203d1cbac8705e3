"""The ``sb3-studio`` command. With no arguments it opens the studio; subcommands work headless.

Every subcommand calls the same core functions the GUI calls. Errors the core raises on purpose
(:class:`~studio.core.errors.StudioError`) print as one line naming the file and the problem, with a
non-zero exit code; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import traceback
from typing import Any, Callable

EXIT_ERROR = 2
EXIT_INTERNAL = 3


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="an SB3 model .zip (an RL Zoo run's ENV.zip works too)")
    parser.add_argument("--env", metavar="ID", help="environment id (overrides the zoo's; MODULE:ID imports MODULE)")
    parser.add_argument("--env-module", metavar="MODULE",
                        help="your own environment module (a dotted name or a .py file) to import before making "
                             "the environment: this runs your code")
    parser.add_argument("--vecnormalize", metavar="PATH", help="VecNormalize statistics (overrides the zoo's)")
    parser.add_argument(
        "--trust",
        action="store_true",
        help="load with SB3's own loader, which runs code from the file: only for files you trust",
    )


def _load(args: argparse.Namespace) -> Any:
    from .core.loading import load_model

    return load_model(args.model, env_id=args.env, vecnormalize=args.vecnormalize, trust=args.trust,
                      env_module=args.env_module)


def cmd_inspect(args: argparse.Namespace) -> int:
    from .core.inspection import format_inspection, inspect_model

    info = inspect_model(_load(args), check_environment=not args.no_env_check)
    print(json.dumps(info, indent=2) if args.json else format_inspection(info))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from .console import ConsoleReporter
    from .core.loading import load_model
    from .core.pipeline.runner import run_pipeline
    from .core.pipeline.spec import ConvertSpec
    from .core.verification import Thresholds

    try:
        spec = ConvertSpec(
            model=args.model,
            targets=[t.strip() for part in args.to for t in part.split(",") if t.strip()] or ["all"],
            out=args.out,
            env_id=args.env,
            env_module=args.env_module,
            vecnormalize=args.vecnormalize,
            trust=args.trust,
            force=args.force,
            seed=args.seed,
            samples=args.samples,
            rollout_steps=args.rollout_steps,
            calibration_steps=args.calibration_steps,
            episodes=args.episodes,
            max_episodes=max(args.episodes, args.max_episodes),
            edgetpu_compiler=args.edgetpu_compiler,
            edgetpu_device=args.edgetpu_device,
            coral_device=args.coral_device,
            int8_min_score=args.int8_min_score,
            repair_int8=not args.no_int8_repair,
            student_hidden=[int(h) for h in args.student.split(",")] if args.student else None,
            thresholds=Thresholds(min_agreement=args.min_agreement, error_multiple=args.error_multiple,
                                  max_abs_error=args.max_error, min_score=args.min_score),
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    # Bad input is one line and exit 2, before any output folder exists.
    loaded = load_model(spec.model, env_id=spec.env_id, vecnormalize=spec.vecnormalize, trust=spec.trust,
                        env_module=spec.env_module)
    report = ConsoleReporter(verbose=args.verbose)
    status = "failed"
    for event in run_pipeline(spec, loaded=loaded):
        report(event)
        status = getattr(event, "status", status)
    return 0 if status == "passed" else 1


def cmd_convert_many(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .core.batch import convert_many

    folder, out = Path(args.folder), Path(args.out)
    if not folder.is_dir():
        print(f"error: {folder}: not a folder", file=sys.stderr)
        return EXIT_ERROR
    passthrough = ["--to", ",".join(args.to) if args.to else "all", "--episodes", str(args.episodes),
                   "--max-episodes", str(max(args.episodes, args.max_episodes))]
    if args.env_module:
        passthrough += ["--env-module", args.env_module]

    def show(item: Any) -> None:
        extra = f" ({item.message})" if item.message else ""
        print(f"{item.status:>8}  {item.seconds:6.1f} s  {item.model}{extra}", file=sys.stderr, flush=True)

    items = convert_many(folder, out, args.jobs, passthrough, on_update=show, force=args.force)
    from .core.batch import family_table, summary_rows

    print("\nfamily                      models  loaded  converted  plays  no env here", file=sys.stderr)
    for row in family_table(summary_rows(items)):
        print(f"{row['family']:<26}  {row['models']:>6}  {row['loaded']:>6}  {row['converted']:>9}  {row['plays']:>5}"
              f"  {row['no environment here']:>11}", file=sys.stderr)
    print(f"\n{len(items)} models; summary in {out}/summary.csv, summary.json and report.html", file=sys.stderr)
    return 0 if all(item.status in ("passed", "resumed") for item in items) else 1


def cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .bench_cli import bench

    return bench(Path(args.target), args)


def cmd_gui(args: argparse.Namespace) -> int:
    from .ui.app import run

    return run(args.paths, startup_probe=args.startup_probe)


def cmd_desktop(args: argparse.Namespace) -> int:
    from pathlib import Path

    from . import desktop

    if args.remove:
        done = desktop.remove()
        print("removed " + ", ".join(map(str, done)) if done else "nothing to remove", file=sys.stderr)
        return 0
    executable = Path(args.executable or (Path(sys.executable).parent / "sb3-studio"))
    written = desktop.install(executable)
    print("wrote " + ", ".join(map(str, written)) if written else "the desktop entry is up to date", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="sb3-studio",
        description="Convert Stable-Baselines3 policies to ONNX, TFLite and the Edge TPU, and prove they act the same.",
    )
    parser.add_argument("--version", action="version", version=f"sb3-studio {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    inspect = sub.add_parser("inspect", help="describe a model file", description="Describe a model file.")
    _model_arguments(inspect)
    inspect.add_argument("--json", action="store_true", help="emit JSON")
    inspect.add_argument("--no-env-check", action="store_true", help="do not try to make the environment")
    inspect.set_defaults(func=cmd_inspect)

    convert = sub.add_parser(
        "convert", help="convert a model and verify every artifact",
        description="Convert a model, verify every artifact against the original, and write a run folder.",
    )
    _model_arguments(convert)
    convert.add_argument("--to", action="append", default=[], metavar="FORMATS",
                         help="formats, comma-separated: onnx, tflite-fp32, tflite-fp16, tflite-int8, "
                              "tflite-full-int8, edgetpu, all (the default: onnx, the TFLite float32, float16 and "
                              "int8 models, edgetpu); torchscript (C++), web (the browser), tflite-micro "
                              "(microcontrollers), bundle (a device folder), or deploy (those four)")
    convert.add_argument("--out", metavar="DIR", help="run folder (default: runs/NAME)")
    convert.add_argument("--force", action="store_true", help="write into a folder that holds other files")
    convert.add_argument("--seed", type=int, default=0, help="seed for sampling and rollouts (0)")
    convert.add_argument("--samples", type=int, default=1000, help="observations sampled from the space (1000)")
    convert.add_argument("--rollout-steps", type=int, default=1000,
                         help="steps of the original policy in its environment (1000; 0 for none)")
    convert.add_argument("--calibration-steps", type=int, default=1000,
                         help="int8: visited observations to calibrate on (1000)")
    convert.add_argument("--episodes", type=int, default=10,
                         help="closed-loop episodes per artifact to start with, same seeds for all (10)")
    convert.add_argument("--max-episodes", type=int, default=80,
                         help="more episodes, doubling, while a verdict is inconclusive, up to this (80)")
    convert.add_argument("--int8-min-score", type=float, default=0.95,
                         help="int8: least closed-loop score before repairs are tried (0.95)")
    convert.add_argument("--no-int8-repair", action="store_true", help="int8: measure only, never repair")
    convert.add_argument("--student", metavar="H1,H2", help="int8 distillation: the student's hidden layers "
                                                           "(default: the original's)")
    convert.add_argument("--edgetpu-compiler", metavar="PATH",
                         help="the Edge TPU compiler (default: $SB3_STUDIO_EDGETPU_COMPILER, then PATH)")
    convert.add_argument("--edgetpu-device", metavar="NAME",
                         help="compile for the Edge TPU on this compile host, over SSH (see 'sb3-studio device')")
    convert.add_argument("--coral-device", metavar="NAME",
                         help="run the compiled model in the bundle on this device's Coral (default: a device "
                              "whose 'device check' found one)")
    convert.add_argument("--min-agreement", type=float, default=100.0,
                         help="discrete actions: least agreement in percent (100)")
    convert.add_argument("--error-multiple", type=float, default=8.0,
                         help="float artifacts: largest error as a multiple of the original's own float error (8)")
    convert.add_argument("--max-error", type=float, default=None,
                         help="Box actions: also an absolute ceiling on the error, in action units (none)")
    convert.add_argument("--min-score", type=float, default=0.99,
                         help="float artifacts: fail only when the closed-loop score is distinguishably below "
                              "the noise floor's by more than 1 - this (0.99)")
    convert.add_argument("-v", "--verbose", action="store_true", help="print every log line")
    convert.set_defaults(func=cmd_convert)

    many = sub.add_parser("convert-many", help="convert every model below a folder, in parallel",
                          description="Convert every SB3 model below FOLDER (an RL Zoo tree works), resuming "
                                      "where a previous batch stopped, and write a summary table.")
    many.add_argument("folder")
    many.add_argument("--jobs", type=int, default=2, help="models converted at once (2)")
    many.add_argument("--out", default="runs/batch", help="where the run folders and the summary go (runs/batch)")
    many.add_argument("--to", action="append", default=[], metavar="FORMATS",
                      help="as for convert (all; all,deploy for every deployment target too)")
    many.add_argument("--episodes", type=int, default=10, help="closed-loop episodes per artifact to start with (10)")
    many.add_argument("--max-episodes", type=int, default=80, help="as for convert (80)")
    many.add_argument("--force", action="store_true", help="overwrite summary files the studio did not write")
    many.add_argument("--env-module", metavar="MODULE", help="as for convert: your own environment module (runs your code)")
    many.set_defaults(func=cmd_convert_many)

    bench = sub.add_parser("bench", help="measure the latency of every runtime of a model or run folder",
                           description="Measure every runtime available here, each in its own process, "
                                       "interleaved in rounds. A model is converted first (into runs/NAME).")
    bench.add_argument("target", metavar="MODEL_OR_RUN_FOLDER")
    bench.add_argument("--calls", type=int, default=2000, help="calls per runtime and batch size (2000)")
    bench.add_argument("--duration", type=float, help="seconds per runtime and batch size, instead of --calls")
    bench.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    bench.add_argument("--warmup", type=int, default=50, help="calls before each round (50)")
    bench.add_argument("--batch", type=int, action="append", help="batch sizes (1; repeat for more)")
    bench.add_argument("--threads", type=int, default=1, help="threads per runtime (1)")
    bench.add_argument("--runtime", action="append", help="only these runtimes (repeat)")
    bench.add_argument("--device", action="append", metavar="NAME",
                       help="also run the run's bundle on this device over SSH (repeat; see 'sb3-studio device')")
    bench.add_argument("--device-only", action="store_true", help="with --device: measure no local runtime")
    bench.add_argument("--device-timeout", type=float, default=600.0, metavar="S",
                       help="longest a device may take for its check and measurement (600)")
    bench.add_argument("--accept-new-host-key", action="store_true",
                       help="on first contact with a device, record its host key")
    bench.add_argument("--sweep", action="store_true", help="MLPs over a grid of widths and depths instead")
    bench.add_argument("--widths", default="64,256,1024", help="sweep widths (64,256,1024)")
    bench.add_argument("--depths", default="2,4,8,16", help="sweep depths (2,4,8,16)")
    bench.set_defaults(func=cmd_bench)

    desktop = sub.add_parser("desktop", help="add the studio to the desktop's menus (a .desktop entry and icon)",
                             description="Write sb3-studio.desktop and its icon under $XDG_DATA_HOME "
                                         "(~/.local/share); running it again changes nothing.")
    desktop.add_argument("--remove", action="store_true", help="take them away")
    desktop.add_argument("--executable", help=argparse.SUPPRESS)
    desktop.set_defaults(func=cmd_desktop)

    from .device_cli import add_parser as add_device_parser

    add_device_parser(sub)

    gui = sub.add_parser("gui", help="open the studio window (the default; sb3-studio FILE... opens the files)")
    gui.add_argument("paths", nargs="*", help="models to open")
    gui.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    gui.set_defaults(func=cmd_gui)
    parser.commands = set(sub.choices)  # type: ignore[attr-defined]
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, handled like an interrupt."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()


def _names_a_model(argument: str) -> bool:
    """A file or folder that is there, or a model's name (a mistyped command still gets argparse's help)."""
    from pathlib import Path

    return not argument.startswith("-") and (Path(argument).exists() or argument.endswith((".zip", ".onnx", ".tflite")))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if argv and argv[0] not in parser.commands and _names_a_model(argv[0]):  # type: ignore[attr-defined]
        argv = ["gui", *argv]  # sb3-studio FILE...: open the files in the window, as a desktop user expects
    args = parser.parse_args(argv)
    if args.command is None:
        args = parser.parse_args([*argv, "gui"])
    func: Callable[[argparse.Namespace], int] = args.func
    from .core.errors import StudioError

    if args.command != "gui" and threading.current_thread() is threading.main_thread():
        # SIGTERM ends a run the way Ctrl+C does: stages cancelled, work folders removed, run.json written.
        signal.signal(signal.SIGTERM, _terminated)
    try:
        return func(args)
    except StudioError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"error: {exc.line()}", file=sys.stderr)
        return EXIT_ERROR
    except Terminated:
        print("terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: say what happened, not a wall of text
        if args.debug:
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    """The console entry point: like ``sys.exit(main())``, without tearing down torch and friends.

    Unloading the heavy libraries at exit takes most of a second and does nothing useful: every output
    has been written and closed by then, so flush what is buffered and leave at once.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
