"""SB3 Studio: convert Stable-Baselines3 policies to ONNX, TFLite and the Edge TPU, and prove they still act the same."""

__version__ = "0.1.0"
