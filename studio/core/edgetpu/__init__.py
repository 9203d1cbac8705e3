"""Coral Edge TPU helpers: read ``edgetpu_compiler`` logs and check a TFLite graph against the
Edge TPU's documented model requirements. Pure Python: no Qt, no TensorFlow."""
