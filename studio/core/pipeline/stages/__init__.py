"""Pipeline stages: each a small class with a pure ``plan`` and a ``run`` that returns its result."""

from .base import Stage, StagePlan, StageResult
from .bundle import BundleStage
from .edgetpu import EdgeTPUCompileStage, EdgeTPUReadinessStage
from .edgetpu_device import EdgeTPUDeviceStage
from .int8_repair import Int8RepairStage
from .load import LoadStage
from .observations import ObservationsStage
from .onnx import OnnxStage
from .tflite import TFLiteConvertStage, wanted
from .tflite_micro import TFLiteMicroStage
from .torchscript import TorchScriptStage
from .verify_tflite import VerifyTFLiteStage
from .web import WebStage

__all__ = ["BundleStage", "EdgeTPUCompileStage", "EdgeTPUDeviceStage", "EdgeTPUReadinessStage", "LoadStage", "ObservationsStage", "OnnxStage", "Stage",
           "StagePlan", "StageResult", "TFLiteMicroStage", "TorchScriptStage", "WebStage", "stages_for"]


def stages_for(targets: list[str]) -> list[Stage]:
    """The stages that produce ``targets``, in order, with what they depend on.

    The deployment stages come last: a stage's cache fingerprint covers every artifact made before it,
    so adding a deployment target to a finished run must not change what the earlier stages saw.
    """
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
    deploy = {"torchscript": TorchScriptStage, "web": WebStage, "tflite-micro": TFLiteMicroStage, "bundle": BundleStage}
    stages += [stage() for target, stage in deploy.items() if target in targets]
    if "edgetpu" in targets and "bundle" in targets:
        stages.append(EdgeTPUDeviceStage())  # the compiled model on a real Coral, when a device has one
    return stages
