"""Headless core of SB3 Studio. Nothing below this package imports Qt."""

import sys

# SB3's logger imports torch.utils.tensorboard when it can, and with TensorFlow installed that imports
# all of TensorFlow (about 5 s and 700 MB). The studio never logs to TensorBoard, and TensorFlow only
# ever runs in onnx2tf's child process, so SB3 gets the ImportError it already handles.
sys.modules.setdefault("torch.utils.tensorboard", None)
# SB3 imports the old ``gym`` package when it is installed, only to patch environments we never give it;
# importing it prints a deprecation banner. Models saved with old gym spaces load without it (spaces.py).
sys.modules.setdefault("gym", None)
