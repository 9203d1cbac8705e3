"""Run on the device (``python3 - [COMPILER]``, fed on stdin): what it offers, as one JSON line.

Standalone on purpose: Python 3.9+ and the standard library only, nothing of the studio. It imports
each runtime to prove it works there (a wheel for another CPU fails on import), loads the Edge TPU
delegate when the library is there, and looks for a Coral on USB and PCIe.
"""

import ctypes
import glob
import json
import os
import platform
import shutil
import subprocess
import sys

CORAL_USB = {("1a6e", "089a"): "Coral USB Accelerator (firmware not loaded yet)",
             ("18d1", "9302"): "Coral USB Accelerator"}
EDGETPU_LIBRARY = "libedgetpu.so.1"


def _version(module):
    try:
        from importlib import metadata
        return metadata.version(module)
    except Exception:  # noqa: BLE001 - any failure means "no version known"
        return None


def _try_import(name, dist):
    """(version, error): version when the module imports, else the import's error (None if absent)."""
    try:
        module = __import__(name, fromlist=["_"])
    except ImportError as exc:
        missing = getattr(exc, "name", None) and name.startswith(exc.name)
        return None, None if missing else "%s: %s" % (type(exc).__name__, exc)
    except Exception as exc:  # noqa: BLE001 - a broken install is a finding, not a crash
        return None, "%s: %s" % (type(exc).__name__, exc)
    return getattr(module, "__version__", None) or _version(dist) or "?", None


def _os_name():
    try:
        with open("/etc/os-release") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def _corals():
    found = []
    for folder in glob.glob("/sys/bus/usb/devices/*"):
        try:
            with open(os.path.join(folder, "idVendor")) as v, open(os.path.join(folder, "idProduct")) as p:
                ids = (v.read().strip(), p.read().strip())
        except OSError:
            continue
        if ids in CORAL_USB:
            found.append({"kind": "usb", "id": "%s:%s" % ids, "name": CORAL_USB[ids]})
    for path in sorted(glob.glob("/dev/apex_*")):
        found.append({"kind": "pcie", "id": path, "name": "Coral PCIe/M.2 Accelerator"})
    return found


def _edgetpu(interpreter_module):
    try:
        ctypes.CDLL(EDGETPU_LIBRARY)
    except OSError as exc:
        return False, False, "cannot load %s: %s" % (EDGETPU_LIBRARY, exc)
    if interpreter_module is None:
        return True, False, "no TFLite interpreter to load the delegate with"
    try:
        module = __import__(interpreter_module, fromlist=["load_delegate"])
        module.load_delegate(EDGETPU_LIBRARY)
    except Exception as exc:  # noqa: BLE001 - ValueError when no Coral answers
        return True, False, "%s is installed but the delegate did not load: %s" % (EDGETPU_LIBRARY, exc)
    return True, True, ""


def _compiler(name):
    path = shutil.which(name) if name else None
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=30, check=False).stdout.decode("utf-8", "replace").strip()
    except (OSError, subprocess.SubprocessError) as exc:
        out = "could not run: %s" % exc
    return {"path": path, "version": out.splitlines()[-1] if out else ""}


def main():
    report = {"python": platform.python_version(), "python_path": sys.executable, "machine": platform.machine(),
              "os": _os_name()}
    report["numpy"], report["numpy_error"] = _try_import("numpy", "numpy")
    report["ai_edge_litert"], report["ai_edge_litert_error"] = _try_import("ai_edge_litert.interpreter",
                                                                             "ai-edge-litert")
    report["tflite_runtime"], report["tflite_runtime_error"] = _try_import("tflite_runtime.interpreter",
                                                                             "tflite-runtime")
    report["onnxruntime"], report["onnxruntime_error"] = _try_import("onnxruntime", "onnxruntime")
    if report["ai_edge_litert"]:
        report["interpreter"], module = "ai_edge_litert " + report["ai_edge_litert"], "ai_edge_litert.interpreter"
    elif report["tflite_runtime"]:
        report["interpreter"], module = "tflite_runtime " + report["tflite_runtime"], "tflite_runtime.interpreter"
    else:
        report["interpreter"], module = None, None
    report["edgetpu_library"], report["edgetpu_delegate"], report["edgetpu_reason"] = _edgetpu(module)
    report["coral"] = _corals()
    report["edgetpu_compiler"] = _compiler(sys.argv[1] if len(sys.argv) > 1 else None)
    sys.stdout.write(json.dumps(report) + "\n")


if __name__ == "__main__":
    main()
