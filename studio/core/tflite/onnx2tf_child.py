"""The onnx2tf child process, started early so that TensorFlow loads while the studio works.

Importing onnx2tf (and with it TensorFlow) takes about three seconds. The runner starts this child
when a run begins; the child imports onnx2tf, then waits for one JSON line on stdin:
``{"argv": [...], "cwd": "..."}``, and runs onnx2tf's own command line with those arguments, then,
when the line has ``"quantize"``, the studio's own int8 of the SavedModel (:mod:`.quantize`), or with
``"ranges"``, int8 with activation ranges of its choosing (:mod:`.ranges`). Ending
stdin without a line ends the child.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    import onnx2tf  # the slow part: TensorFlow

    print("sb3-studio: onnx2tf loaded", flush=True)
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    request = json.loads(line)
    os.chdir(request["cwd"])
    sys.argv = ["onnx2tf", *request["argv"]]
    try:
        onnx2tf.main()
    except SystemExit as exc:
        if exc.code:
            return int(exc.code)
    if request.get("quantize"):
        from studio.core.tflite.quantize import quantize

        quantize(request["quantize"])
    if request.get("ranges"):
        from studio.core.tflite.ranges import quantize_with_ranges

        chosen = quantize_with_ranges(request["ranges"])
        print(f"sb3-studio: int8 with {request['ranges']['method']} activation ranges written ({len(chosen)} activation ranges)", flush=True)
        for name, change in chosen.items():
            print(f"sb3-studio: range {name}: {change['calibrated']} -> {change['chosen']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
