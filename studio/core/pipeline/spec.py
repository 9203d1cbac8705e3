"""What the user asked for: :class:`ConvertSpec`, and the CLI command that reproduces it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from ..verification import Thresholds

TARGETS = ("onnx", "tflite-fp32", "tflite-fp16", "tflite-int8", "tflite-full-int8", "edgetpu",
           "torchscript", "web", "tflite-micro", "bundle")
# "all": what a Coral user wants (full int8 in and out is optional: ask for it by name).
ALL = ["onnx", "tflite-fp32", "tflite-fp16", "tflite-int8", "edgetpu"]
# "deploy": beyond Python. Asked for by name (or with "deploy"): the web folder carries onnxruntime-web's
# 14 MB of WebAssembly, the bundle copies the TFLite models, and the first C++ check compiles for a minute.
DEPLOY = ["torchscript", "web", "tflite-micro", "bundle"]
GROUPS = {"all": ALL, "deploy": DEPLOY}


@dataclass
class ConvertSpec:
    model: Path
    targets: list[str] = field(default_factory=lambda: ["onnx"])
    out: Path | None = None
    env_id: str | None = None
    env_module: str | None = None  # the user's own environment module (their code runs)
    vecnormalize: Path | None = None
    trust: bool = False
    force: bool = False
    seed: int = 0
    samples: int = 1000
    rollout_steps: int = 1000
    calibration_steps: int = 1000
    episodes: int = 10  # closed-loop episodes per artifact to start with (same seeds for every policy)
    max_episodes: int = 80  # more while the verdict is inconclusive, doubling, up to this
    int8_min_score: float = 0.95  # below it, the int8 stage tries repairs
    repair_int8: bool = True
    student_hidden: list[int] | None = None  # distillation: the student's hidden layers (default: the original's)
    edgetpu_compiler: Path | None = None  # default: $SB3_STUDIO_EDGETPU_COMPILER or PATH
    edgetpu_device: str | None = None  # a compile host (sb3-studio device add ... --compile-host) instead
    coral_device: str | None = None  # runs the compiled model (default: a device whose check found a Coral)
    thresholds: Thresholds = field(default_factory=Thresholds)

    def __post_init__(self) -> None:
        self.model = Path(self.model)
        self.targets = list(self.targets)
        for group, members in GROUPS.items():
            if group in self.targets:
                at = self.targets.index(group)
                rest = [t for t in self.targets if t != group and t not in members]
                self.targets = [*rest[:at], *members, *rest[at:]]
        if any(t != "onnx" for t in self.targets) and "onnx" not in self.targets:
            self.targets.insert(0, "onnx")  # every later format is made from the verified ONNX graph
        unknown = [t for t in self.targets if t not in TARGETS]
        if unknown:
            raise ValueError(f"unknown target(s) {', '.join(unknown)}; choose from {', '.join(TARGETS)}")

    def run_dir(self) -> Path:
        if self.out is not None:
            return Path(self.out)
        parent = self.model.parent
        # RL Zoo: ALGO/ENV_1/ENV.zip -> runs/ALGO-ENV
        zoo_algo = parent.parent.name if (parent / self.model.stem).is_dir() else ""
        name = f"{zoo_algo}-{self.model.stem}" if zoo_algo else self.model.stem
        return Path("runs") / name

    def command(self) -> str:
        """The ``sb3-studio convert`` command line that reproduces this run."""
        default = ConvertSpec(self.model)
        args = ["sb3-studio", "convert", str(self.model), "--to", ",".join(self.targets), "--out", str(self.run_dir())]
        if self.env_id:
            args += ["--env", self.env_id]
        if self.env_module:
            args += ["--env-module", self.env_module]
        if self.vecnormalize:
            args += ["--vecnormalize", str(self.vecnormalize)]
        for flag, value, base in (
            ("--seed", self.seed, default.seed),
            ("--samples", self.samples, default.samples),
            ("--rollout-steps", self.rollout_steps, default.rollout_steps),
            ("--calibration-steps", self.calibration_steps, default.calibration_steps),
            ("--episodes", self.episodes, default.episodes),
            ("--max-episodes", self.max_episodes, default.max_episodes),
            ("--int8-min-score", self.int8_min_score, default.int8_min_score),
            ("--min-agreement", self.thresholds.min_agreement, default.thresholds.min_agreement),
            ("--error-multiple", self.thresholds.error_multiple, default.thresholds.error_multiple),
            ("--max-error", self.thresholds.max_abs_error, default.thresholds.max_abs_error),
            ("--min-score", self.thresholds.min_score, default.thresholds.min_score),
        ):
            if value != base:
                args += [flag, str(value)]
        if not self.repair_int8:
            args.append("--no-int8-repair")
        if self.edgetpu_device:
            args += ["--edgetpu-device", self.edgetpu_device]
        if self.coral_device:
            args += ["--coral-device", self.coral_device]
        if self.student_hidden:
            args += ["--student", ",".join(str(h) for h in self.student_hidden)]
        if self.trust:
            args.append("--trust")
        if self.force:
            args.append("--force")
        return shlex.join(args)
