"""Starting the studio's own child processes (onnx2tf, benchmark runtimes, one conversion per model).

``python -m`` would put the working folder first on ``sys.path``, so an ``onnx2tf.py`` or ``numpy.py``
lying beside a downloaded model would be imported and run. Children run isolated (``-I``: neither the
working folder nor ``PYTHON*`` variables reach ``sys.path``) and start in a folder of their own.
"""

from __future__ import annotations

import sys
import tempfile


def python_module(module: str, *args: str) -> list[str]:
    """The command line that runs ``module`` of the studio in an isolated interpreter."""
    return [sys.executable, "-I", "-m", module, *args]


def neutral_cwd() -> str:
    """A working folder for a child that holds nothing importable of the user's."""
    return tempfile.gettempdir()
