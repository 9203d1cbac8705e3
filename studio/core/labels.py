"""The words the studio shows for its targets, artifacts and runtimes: one table, every tab and the CLI.

A file format is named by what it is ("TFLite float32"); the runtime that runs it is named by the same
words ("TFLite float32" runs in LiteRT), so the Pipeline, Rollouts, Benchmark and Graph tabs agree.
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
}

RUNTIME_LABELS = {
    "sb3": "SB3 (original)",
    "torch": "PyTorch module",
    "onnxruntime": "ONNX Runtime",
    "litert-fp32": "TFLite float32",
    "litert-fp16": "TFLite float16",
    "litert-int8": "TFLite int8",
    "litert-int8-plain": "TFLite int8, plain",
    "edgetpu": "Edge TPU (Coral)",
}

SHORT_ARTIFACT = {"onnx": "ONNX", "tflite_fp32": "fp32", "tflite_fp16": "fp16", "tflite_int8": "int8",
                  "tflite_full_int8": "int8 i/o", "edgetpu": "Edge TPU"}


def target_label(key: str) -> str:
    return TARGET_LABELS.get(key, key)


def artifact_label(key: str) -> str:
    return ARTIFACT_LABELS.get(key, key)


def runtime_label(name: str) -> str:
    return RUNTIME_LABELS.get(name, name)
