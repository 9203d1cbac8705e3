"""Pipeline stages: each a small class with a pure ``plan`` and a ``run`` that returns its result."""

from .base import Stage, StagePlan, StageResult
from .load import LoadStage
from .observations import ObservationsStage
from .onnx import OnnxStage

__all__ = ["LoadStage", "ObservationsStage", "OnnxStage", "Stage", "StagePlan", "StageResult", "stages_for"]


def stages_for(targets: list[str]) -> list[Stage]:
    """The stages that produce ``targets``, in order, with what they depend on."""
    stages: list[Stage] = [LoadStage(), ObservationsStage()]
    if "onnx" in targets:
        stages.append(OnnxStage())
    return stages
