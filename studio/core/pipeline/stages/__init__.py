"""Pipeline stages: each a small class with a pure ``plan`` and a ``run`` that returns its result."""

from .base import Stage, StagePlan, StageResult
from .edgetpu import EdgeTPUCompileStage, EdgeTPUReadinessStage
from .int8_repair import Int8RepairStage
from .load import LoadStage
from .observations import ObservationsStage
from .onnx import OnnxStage
from .tflite import TFLiteConvertStage, wanted
from .verify_tflite import VerifyTFLiteStage

__all__ = ["EdgeTPUCompileStage", "EdgeTPUReadinessStage", "LoadStage", "ObservationsStage", "OnnxStage", "Stage", "StagePlan", "StageResult", "stages_for"]


def stages_for(targets: list[str]) -> list[Stage]:
    """The stages that produce ``targets``, in order, with what they depend on."""
    stages: list[Stage] = [LoadStage(), ObservationsStage()]
    if "onnx" in targets:
        stages.append(OnnxStage())
    tflite = wanted(targets)
    if tflite:
        stages.append(TFLiteConvertStage())
        stages += [VerifyTFLiteStage(key) for key in tflite]
    if "tflite_int8" in tflite:
        stages.append(Int8RepairStage())
        stages.append(EdgeTPUReadinessStage())
    if "edgetpu" in targets:
        stages.append(EdgeTPUCompileStage())
    return stages
