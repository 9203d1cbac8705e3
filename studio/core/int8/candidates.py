"""The int8 repairs, cheapest first, and why each is tried: chosen from the plain model's diagnostics.

Every repair keeps the int8 graph fully integer between its float input and output (what the Edge TPU
runs), and is judged in closed loop like the plain model:

1. **recalibrated**: the exact graph, calibrated on the states the original visits plus the states the
   plain int8 policy reaches (it drifts where the original never goes);
2. **equalised input ranges**: per-feature offset and scale on the float side, folded into the first
   layer (:mod:`.equalise`); tried first when the diagnostics show the input losing resolution
   (features with few int8 steps, a normalisation constant rounded to zero);
3. **equalised, percentile activation ranges**: as 2, each activation's int8 range without the rarest
   0.01 % of its calibration values on each side instead of their min and max (a few extreme values no
   longer stretch the steps of every other one); tried only when the diagnostics show a range that would
   shrink by at least 10 % (MSE-optimal ranges are the same as min and max at 8 bits, see
   :mod:`studio.core.tflite.ranges`);
4. **distilled**: a student of the original's shape trained with int8 fake quantisation towards the
   original's preferences (on equalised inputs where they could be made);
5. **distilled, wider**: the same with twice the width, when the original's layers are narrow enough.

Per-channel weights are the default of every attempt (the plain model too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .diagnostics import DECISIONS_UNDER_STEP, FEATURE_ERROR, MIN_STEPS

WIDEST_STUDENT = 1024


@dataclass
class Candidate:
    key: str  # "recalibrated", "equalised", "equalised-percentile", "distilled", "distilled-wide"
    method: str  # the words run.json and the summary use
    why: str
    equalise: bool = False
    ranges: str = "minmax"  # "minmax" (TFLite's calibration), "percentile" or "mse" (studio.core.tflite.ranges)
    student: list[int] | None = None  # distillation: the student's hidden layers (None: no student)
    details: dict[str, Any] = field(default_factory=dict)


def input_problem(diagnostics: dict[str, Any] | None) -> str | None:
    """Why the input loses resolution in int8, in words, or None when the diagnostics do not show it."""
    if not diagnostics or "tensors" not in diagnostics:
        return None
    reasons = []
    features = [f for f in diagnostics.get("features", []) if f["flagged"]]
    few = [f for f in features if f["steps"] is not None and f["visited_range"][1] > f["visited_range"][0]
           and f["steps"] < MIN_STEPS]
    if few:
        worst = min(few, key=lambda f: f["steps"])
        reasons.append(f"{len(few)} input feature(s) span fewer than {MIN_STEPS} int8 steps "
                       f"({worst['input']}[{worst['index']}]: {worst['steps']:.1f})")
    lost = [c for c in diagnostics.get("constants", []) if c["op"] != "FULLY_CONNECTED" and c["lost_to_zero"] > 0]
    if lost:
        c = max(lost, key=lambda c: c["lost_to_zero"] / max(1, c["nonzero"]))
        reasons.append(f"the input's {c['op']} constant loses {c['lost_to_zero']} of {c['nonzero']} values to 0")
    errors = [f for f in features if (f["worst_relative_error"] or 0.0) > FEATURE_ERROR and f not in few]
    if errors and not lost:
        reasons.append(f"{len(errors)} input feature(s) lose over {FEATURE_ERROR:.0%} of their spread before the first layer")
    return "; ".join(reasons) or None


def decision_problem(diagnostics: dict[str, Any] | None) -> str | None:
    """Why the graph's own output cannot resolve the original's decisions in int8, or None."""
    for decision in (diagnostics or {}).get("decisions", []):
        if decision["under_one_step_percent"] >= DECISIONS_UNDER_STEP:
            return (f"the values the argmax reads span {decision['value_range'][0]:.3g}..{decision['value_range'][1]:.3g}, "
                    f"an int8 step of {decision['step']:.3g}, more than the original's margin between its two best "
                    f"choices on {decision['under_one_step_percent']:.0f} % of visited states: no calibration of this "
                    "graph resolves them, a student learning centred preferences can")
    return None


def plan_repairs(diagnostics: dict[str, Any] | None, hidden: list[int] | None, equalisable: str | None,
                 student_hidden: list[int] | None = None) -> list[Candidate]:
    """The repairs to try in order. ``hidden``: the original's acting layers (None: no MLP student);
    ``equalisable``: None when input ranges can be equalised, else why not."""
    problem = input_problem(diagnostics)
    decisions = decision_problem(diagnostics) if hidden is not None else None
    recalibrate = Candidate("recalibrated", "recalibrated on original- and int8-visited states",
                            "the cheapest repair: int8 drifts to states the original never visits, where the "
                            "calibration saw nothing")
    ladder: list[Candidate] = []
    if decisions is not None:
        pass  # straight to the students: requantising the same graph cannot separate its choices
    elif equalisable is None:
        why = (f"the diagnostics show the input losing resolution: {problem}" if problem else
               "recalibration alone was not enough; one scale for features of different ranges costs resolution")
        equalised = Candidate("equalised", "equalised input ranges (float-side affine folded into the first layer)",
                              why, equalise=True)
        clipped = Candidate("equalised-percentile", "equalised input ranges, percentile activation ranges",
                            "min-max ranges let a few extreme values stretch every int8 step of a tensor",
                            equalise=True, ranges="percentile")
        # With the input losing resolution, recalibrating the same graph cannot help: equalising calibrates on
        # the same states and fixes the input too.
        ladder += [equalised, clipped] if problem else [recalibrate, equalised, clipped]
    else:
        ladder.append(recalibrate)
    if hidden is not None:
        shape = student_hidden or hidden
        ladder.append(Candidate("distilled", f"quantisation-aware distillation ({_shape(shape)} student)",
                                decisions or "post-training int8 of this graph is not enough: a network trained under "
                                "int8 towards the original's preferences", equalise=equalisable is None, student=shape))
        wider = [min(2 * h, WIDEST_STUDENT) for h in shape]
        if student_hidden is None and wider != shape:
            ladder.append(Candidate("distilled-wide", f"quantisation-aware distillation ({_shape(wider)} student)",
                                    "the student of the original's width fell short: more units, finer int8 "
                                    "resolution per decision", equalise=equalisable is None, student=wider))
    return ladder


def _shape(hidden: list[int]) -> str:
    return "x".join(str(h) for h in hidden)
