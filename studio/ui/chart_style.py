"""What every chart shares: one colour per runtime (the same in every chart and every run), axis
labels with units, and decade ticks for axes drawn in log10 units."""

from __future__ import annotations

import math
import zlib
from typing import Any

RUNTIME_COLORS = {
    "sb3": "#1f77b4",
    "torch": "#8c564b",
    "onnxruntime": "#ff7f0e",
    "litert-fp32": "#2ca02c",
    "litert-fp16": "#17becf",
    "litert-int8": "#d62728",
    "litert-int8-plain": "#e377c2",
    "edgetpu": "#7f7f7f",
}
SPARE = ["#9467bd", "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39"]


def color_of(runtime: str) -> str:
    return RUNTIME_COLORS.get(runtime) or SPARE[zlib.crc32(runtime.encode()) % len(SPARE)]


def style_plot(plot: Any, bottom: str, left: str) -> None:
    plot.setLabel("bottom", bottom)
    if left:
        plot.setLabel("left", left)
    plot.showGrid(x=True, y=True, alpha=0.15)
    for name in ("left", "bottom"):
        plot.getAxis(name).setTextPen("#333")
        plot.getAxis(name).setPen("#888")


def decade_ticks(low: float, high: float) -> list[list[tuple[float, str]]]:
    """Major ticks at 1, 10, 100... and minor ones at 2 and 5 times them, for an axis in log10 units."""
    major, minor = [], []
    for exponent in range(math.floor(low), math.ceil(high) + 1):
        if low <= exponent <= high:
            major.append((float(exponent), f"{10.0 ** exponent:g}"))
        for factor in (2, 5):
            position = exponent + math.log10(factor)
            if low <= position <= high:
                minor.append((position, f"{factor * 10.0 ** exponent:g}"))
    return [major, minor] if len(major) >= 2 else [major + minor]
