"""ONNX to TensorFlow and TFLite through onnx2tf, which always runs in a child process."""
