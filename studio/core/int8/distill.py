"""Quantisation-aware distillation, DAgger-style: a student learns the original's preferences on the
states the original visits, then on the states the student itself reaches, under int8 fake quantisation.

A seconds-to-a-minute repair for MLP policies when plain post-training int8 no longer plays like the
original. The result is a different network; the caller records how it was made.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ..loading import LoadedModel
from ..observations import rollout_observations
from .student import StudentPolicy, acting_layers
from .teacher import acting_mlp, centred, decision_for, output_map, preferences


@dataclass
class DistillConfig:
    hidden: list[int] | None = None  # default: the original's acting layers
    rounds: int = 3  # DAgger rounds after the first fit
    student_steps: int = 1500  # states the student visits per round
    epochs_first: int = 60
    epochs_round: int = 25
    batch: int = 256
    lr: float = 2e-3
    seed: int = 0
    decision_weight: float = 1.0
    warm_start: bool = False  # start from the original's layers (fine-tuning) instead of a seeded random init
    transform: dict[str, list[float]] | None = None  # equalised inputs: what the host computes before the graph
    details: dict[str, Any] = field(default_factory=dict)


def teacher_targets(loaded: LoadedModel, raw: np.ndarray) -> torch.Tensor:
    obs = loaded.normalization.normalize(raw) if loaded.normalization is not None else raw
    tensor, _ = loaded.policy.obs_to_tensor(obs)
    return centred(preferences(loaded, tensor), decision_for(loaded)).float()


def _fit(student: StudentPolicy, states: torch.Tensor, targets: torch.Tensor, epochs: int, config: DistillConfig,
         check: Callable[[], None], generator: torch.Generator,
         on_epoch: Callable[[float], None] = lambda loss: None) -> float:
    optimizer = torch.optim.Adam(student.parameters(), lr=config.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
    scale = targets.std(dim=0, keepdim=True).clamp(min=1e-3)  # every output matters, whatever its units
    decisions = _decision_terms(student, targets)
    student.train()
    loss_value = 0.0
    for _ in range(epochs):
        check()
        student.calibrate(states)  # the ranges TFLite will calibrate on the same states
        order = torch.randperm(len(states), generator=generator)
        for start in range(0, len(states), config.batch):
            index = order[start:start + config.batch]
            values = student.values(states[index])
            loss = (((values - targets[index]) / scale) ** 2).mean()
            if decisions is not None:  # get the choice right, the more so the more decisive the original is
                labels, weights = decisions[0][index], decisions[1][index]
                ce = nn.functional.cross_entropy(values / scale.mean(), labels, reduction="none")
                loss = loss + config.decision_weight * (weights * ce).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss_value = float(loss.detach())
        schedule.step()
        on_epoch(loss_value)
    student.eval()
    return loss_value


def _decision_terms(student: StudentPolicy, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Discrete actions: the original's choice per state, and a weight that grows with its margin."""
    if student.decision.kind != "argmax":
        return None
    top = torch.topk(targets, 2, dim=1).values
    margin = top[:, 0] - top[:, 1]
    weights = torch.clamp(margin / margin.median().clamp(min=1e-6), 0.0, 3.0)
    return targets.argmax(dim=1), weights


def distill(
    loaded: LoadedModel,
    states: np.ndarray,
    config: DistillConfig,
    progress: Callable[[float, str], None] = lambda f, m: None,
    check: Callable[[], None] = lambda: None,
    score: Callable[[float], float | None] = lambda mean_return: None,
) -> tuple[StudentPolicy, dict[str, Any]]:
    """Train a student on ``states`` (raw observations the original visits) and its own, DAgger-style.

    ``progress`` hears every epoch (its loss) and every DAgger round (the return of the student's own
    episodes, as a closed-loop score when ``score`` can make one of it)."""
    from .image_student import ImageStudentPolicy, is_image_policy

    if loaded.algo in ("RecurrentPPO", "MaskablePPO"):
        raise ValueError(f"a {loaded.algo} student would need the LSTM state or the masks: not made (yet)")
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    started = time.perf_counter()
    targets = teacher_targets(loaded, states)
    student: StudentPolicy
    if is_image_policy(loaded):  # the original's CNN itself, fine-tuned: fewer, costlier epochs
        student, warm, hidden, activation = ImageStudentPolicy(loaded), True, ["the original's CNN"], nn.ReLU
        config = replace(config, epochs_first=min(config.epochs_first, 8), epochs_round=min(config.epochs_round, 4),
                         rounds=min(config.rounds, 2), student_steps=min(config.student_steps, 500), lr=min(config.lr, 2e-4))
    else:
        default_hidden, activation = acting_layers(loaded)
        hidden = config.hidden or default_hidden
        student = StudentPolicy(loaded, hidden, activation, targets.shape[1], config.transform)
        found = acting_mlp(loaded) if config.warm_start else None
        warm = found is not None and student.start_from(found[0], output_map(loaded, found[0][-1].weight, found[0][-1].bias))
    data = torch.as_tensor(_graph_layout(student, states))
    total = config.epochs_first + config.rounds * config.epochs_round
    done, shown = [0], {"student": ""}

    def on_epoch(loss: float) -> None:
        done[0] += 1
        progress(0.95 * done[0] / max(1, total), f"epoch {done[0]}/{total}, loss {loss:.4f}{shown['student']}")

    losses = [_fit(student, data, targets, config.epochs_first, config, check, generator, on_epoch)]
    scores = []
    for round_index in range(config.rounds):
        rollout = rollout_observations(loaded.make_env, student.act, config.student_steps,
                                       config.seed + 1000 * (round_index + 1), check=check)
        visited = rollout.batch
        if "mean_return" in rollout.detail:
            mean_return = rollout.detail["mean_return"]
            value = score(mean_return)
            scores.append({"round": round_index + 1, "mean_return": mean_return, "score": value})
            shown["student"] = (f", student score {value:.2f}" if value is not None else f", student return {mean_return:.1f}") \
                + f" (round {round_index + 1})"
        targets = torch.cat([targets, teacher_targets(loaded, visited)])
        data = torch.cat([data, torch.as_tensor(_graph_layout(student, visited))])
        losses.append(_fit(student, data, targets, config.epochs_round, config, check, generator, on_epoch))
    student.quantize(False)
    report = {
        "method": "quantisation-aware distillation (DAgger)",
        "student": {"hidden": hidden, "activation": activation.__name__, "outputs": int(targets.shape[1]),
                    "targets": _target_words(loaded),
                    "initialised_from": "the original's layers" if warm else "random (seeded)"},
        "data": {"original_states": int(len(states)), "total_states": int(len(data)), "rounds": config.rounds,
                 "student_steps_per_round": config.student_steps, "student_episodes": scores},
        "training": {**{k: v for k, v in asdict(config).items() if k in ("epochs_first", "epochs_round", "batch", "lr", "seed")},
                     "final_losses": [round(v, 6) for v in losses], "seconds": round(time.perf_counter() - started, 2)},
    }
    return student, report


def _graph_layout(student: StudentPolicy, states: Any) -> np.ndarray:
    """Raw observations as the student's graph takes them (float32; images channels first; through any
    float-side transform)."""
    return student.io.feeds(np.asarray(states))[student.io.inputs[0].name]


def _target_words(loaded: LoadedModel) -> str:
    kind = decision_for(loaded).kind
    if hasattr(loaded.policy, "q_net") or hasattr(loaded.policy, "quantile_net"):
        return "advantages Q(s,a) - mean_a Q(s,a)"
    return {"argmax": "centred logits", "multi_argmax": "centred logits per part", "sign": "logits",
            "squash": "pre-tanh action means", "clip": "action means before the clip"}[kind]
