"""The words the studio shows for its targets, artifacts and runtimes: one table, every tab and the CLI.

A file format is named by what it is ("TFLite float32"); a runtime by what runs it and on what
("LiteRT float32" runs the TFLite float32 file), and the Rollouts and Benchmark tabs, the charts and
the exports all use the runtime's words, so a row is called the same wherever it appears.
A key with no entry here (a target added later) is shown as its key.
"""

from __future__ import annotations

TARGET_LABELS = {
    "onnx": "ONNX",
    "tflite-fp32": "TFLite float32",
    "tflite-fp16": "TFLite float16",
    "tflite-int8": "TFLite int8 (Coral)",
    "tflite-full-int8": "TFLite int8 in and out",
    "edgetpu": "Edge TPU",
    "torchscript": "TorchScript (C++)",
    "web": "Browser (onnxruntime-web)",
    "tflite-micro": "Microcontroller (TFLite Micro)",
    "bundle": "Device bundle (Raspberry Pi)",
}

ARTIFACT_LABELS = {
    "onnx": "ONNX",
    "tflite_fp32": "TFLite float32",
    "tflite_fp16": "TFLite float16",
    "tflite_int8": "TFLite int8",
    "tflite_int8_plain": "TFLite int8, plain",
    "tflite_full_int8": "TFLite int8 in and out",
    "edgetpu": "Edge TPU",
    "int8_student_onnx": "int8 student (ONNX)",
    "saved_model": "TensorFlow SavedModel",
    "torchscript": "TorchScript (C++)",
    "web": "Browser folder (onnxruntime-web)",
    "tflite_micro": "TFLite Micro sources",
    "bundle": "Device bundle",
}

RUNTIME_LABELS = {
    "sb3": "SB3 (original)",
    "torch": "PyTorch module",
    "onnxruntime": "ONNX Runtime",
    "litert-fp32": "LiteRT float32",
    "litert-fp16": "LiteRT float16",
    "litert-int8": "LiteRT int8",
    "litert-int8-plain": "LiteRT int8, plain",
    "edgetpu": "Edge TPU (Coral)",
    "torchscript": "TorchScript",
    "tflite-micro": "TFLite Micro",
    "ort-web": "onnxruntime-web (Node)",
}

SHORT_ARTIFACT = {"onnx": "ONNX", "tflite_fp32": "fp32", "tflite_fp16": "fp16", "tflite_int8": "int8",
                  "tflite_full_int8": "int8 i/o", "edgetpu": "Edge TPU", "torchscript": "TS",
                  "web": "web", "tflite_micro": "µ", "bundle": "bundle"}


def target_label(key: str) -> str:
    return TARGET_LABELS.get(key, key)


def artifact_label(key: str) -> str:
    return ARTIFACT_LABELS.get(key, key)


def runtime_label(name: str) -> str:
    """A runtime's words; a device's row (``pi:litert-int8``, see ``devices.remote_bench``) is the
    device's name, then the runtime's words (``pi: LiteRT int8``)."""
    if ":" in name:
        device, runtime = name.split(":", 1)
        if runtime == "bundle":
            return f"{device}: device bundle"
        if runtime.endswith("-edgetpu") and runtime != "edgetpu":
            return f"{device}: {runtime_label(runtime[:-len('-edgetpu')])} on the Edge TPU"
        return f"{device}: {runtime_label(runtime)}"
    return RUNTIME_LABELS.get(name, name)
