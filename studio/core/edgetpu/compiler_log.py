"""Parse what Coral's ``edgetpu_compiler`` prints when it compiles a TFLite model.

Reads both the compiler's stdout (``Edge TPU Compiler version ...``, ``Model compiled successfully
in N ms.``, the memory figures, the operation counts and, with ``-s``, the operator table) and the
``*_edgetpu.log`` operation log it writes beside the model (``Input:`` / ``Output:`` lines and the
same operator table). Pasted excerpts, Windows line endings, markdown quote markers and failed
compilations are all accepted: :func:`parse_compiler_log` never raises, it returns what it could
read with ``succeeded=False`` and ``errors`` filled when the log does not show a compiled model.
When a log holds several operator tables (several attempts or models), the last one wins, as for
every other field.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

MAPPED = "Mapped to Edge TPU"

_UNITS = {"B": 1, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3, "TIB": 1024**4,
          "KB": 1000, "MB": 1000**2, "GB": 1000**3, "TB": 1000**4}
_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?i?B)\b", re.IGNORECASE)
_VERSION = re.compile(r"Edge TPU Compiler version\s+(\S+)")
_COMPILED_IN = re.compile(r"compiled successfully in\s+([0-9]+(?:\.[0-9]+)?)\s*ms", re.IGNORECASE)
_TABLE_HEADER = re.compile(r"^Operator\s+Count\s+Status$")
_TABLE_ROW = re.compile(r"^([A-Z][A-Z0-9_]*)\s+([0-9]+)\s+(\S.*)$")
_QUOTE = re.compile(r"^(?:>\s?)+")

# "label: value" lines -> (report field, converter)
_FIELDS: dict[str, tuple[str, str]] = {
    "input model": ("input_model", "text"),
    "input": ("input_model", "text"),
    "output model": ("output_model", "text"),
    "output": ("output_model", "text"),
    "output size": ("output_size_bytes", "size"),
    "on-chip memory used for caching model parameters": ("on_chip_memory_bytes", "size"),
    "on-chip memory remaining for caching model parameters": ("on_chip_remaining_bytes", "size"),
    "off-chip memory used for streaming uncached model parameters": ("off_chip_memory_bytes", "size"),
    "number of edge tpu subgraphs": ("subgraphs_on_tpu", "int"),
    "total number of operations": ("total_ops", "int"),
    "number of operations that will run on edge tpu": ("ops_mapped", "int"),
    "number of operations that will run on cpu": ("ops_on_cpu", "int"),
}
_SUCCESS_MARKERS = ("compiled successfully", "model successfully compiled", "compilation succeeded")
_FATAL_MARKERS = ("internal compiler error", "compilation failed", "invalid model", "model not quantized",
                  "aborting", "export failure")
_NOT_ALL_MAPPED = "not all operations are supported"


@dataclass
class OpMapping:
    """One row of the operator table: how many ops of a kind got which status."""

    operator: str
    count: int
    status: str

    @property
    def mapped(self) -> bool:
        return self.status.startswith(MAPPED)

    def to_json(self) -> dict[str, Any]:
        return {"operator": self.operator, "count": self.count, "status": self.status, "mapped": self.mapped}


@dataclass
class CompilerReport:
    """Everything read from one compiler log; ``None`` where the log did not say."""

    compiler_version: str | None = None
    input_model: str | None = None
    output_model: str | None = None
    output_size_bytes: int | None = None
    on_chip_memory_bytes: int | None = None
    on_chip_remaining_bytes: int | None = None
    off_chip_memory_bytes: int | None = None
    subgraphs_on_tpu: int | None = None
    total_ops: int | None = None
    ops_mapped: int | None = None
    ops_on_cpu: int | None = None
    ops: list[OpMapping] = field(default_factory=list)
    compile_seconds: float | None = None
    succeeded: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def unmapped_ops(self) -> list[OpMapping]:
        return [op for op in self.ops if not op.mapped]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ops"] = [op.to_json() for op in self.ops]
        return data


def parse_size(text: str) -> int | None:
    """``6.91MiB`` -> bytes (binary units as the compiler prints them); ``None`` if unreadable."""
    match = _SIZE.search(text or "")
    if not match:
        return None
    unit = match.group(2).upper()
    factor = _UNITS.get(unit)
    return None if factor is None else int(round(float(match.group(1)) * factor))


def _lines(text: Any) -> list[str]:
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", errors="replace")
    elif not isinstance(text, str):
        text = "" if text is None else str(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    return [_QUOTE.sub("", line).strip() for line in text.split("\n")]


def _set_field(report: CompilerReport, line: str) -> bool:
    label, sep, value = line.partition(":")
    if not sep:
        return False
    spec = _FIELDS.get(label.strip().lower())
    if spec is None:
        return False
    name, kind = spec
    value = value.strip()
    if kind == "text":
        if value:
            setattr(report, name, value)
        return True
    if kind == "size":
        setattr(report, name, parse_size(value))
        return True
    match = re.match(r"-?[0-9]+", value)
    if match:
        setattr(report, name, int(match.group(0)))
    return True


def parse_compiler_log(text: str) -> CompilerReport:
    """Read an ``edgetpu_compiler`` stdout log or ``*_edgetpu.log`` operation log. Never raises."""
    report = CompilerReport()
    try:
        _parse_into(report, _lines(text))
    except Exception as exc:  # noqa: BLE001 - odd input must give a report, not a traceback
        report.succeeded = False
        report.errors.append(f"could not read the log: {type(exc).__name__}: {exc}")
    return report


def _parse_into(report: CompilerReport, lines: list[str]) -> None:
    last_success = last_fatal = -1
    in_table = False
    table: list[OpMapping] = []
    not_all_mapped = False
    for number, line in enumerate(lines):
        if not line:
            continue
        if _TABLE_HEADER.match(line):
            in_table, table = True, []
            report.ops = table
            continue
        if in_table:
            row = _TABLE_ROW.match(line)
            if row:  # the compiler prints the table only for a compiled model
                table.append(OpMapping(row.group(1), int(row.group(2)), row.group(3).strip()))
                last_success = number
                continue
            in_table = False
        lower = line.lower()
        version = _VERSION.search(line)
        if version:
            report.compiler_version = version.group(1)
        compiled = _COMPILED_IN.search(line)
        if compiled:
            report.compile_seconds = float(compiled.group(1)) / 1000.0
        if any(marker in lower for marker in _SUCCESS_MARKERS):
            last_success = number
        if _NOT_ALL_MAPPED in lower:
            not_all_mapped = True
        if _set_field(report, line):
            label = line.partition(":")[0].strip().lower()
            if label == "output" or label.startswith("number of operations that will run"):
                last_success = number
            continue
        if line.startswith(("ERROR", "Error:")) or any(marker in lower for marker in _FATAL_MARKERS):
            report.errors.append(line)
            if any(marker in lower for marker in _FATAL_MARKERS):
                last_fatal = number
    report.succeeded = last_success >= 0 and last_success > last_fatal
    _fill_counts(report, not_all_mapped)
    if not report.succeeded and not report.errors:
        report.errors.append("no successful compilation found in the log")


def _fill_counts(report: CompilerReport, not_all_mapped: bool) -> None:
    """Fill op counts the compiler leaves out: a fully mapped model prints no per-device counts."""
    if report.ops_mapped is not None or report.ops_on_cpu is not None or not report.succeeded:
        return
    if report.total_ops is not None and not not_all_mapped:
        report.ops_mapped, report.ops_on_cpu = report.total_ops, 0
    elif report.total_ops is None and report.ops:
        report.ops_mapped = sum(op.count for op in report.ops if op.mapped)
        report.ops_on_cpu = sum(op.count for op in report.ops if not op.mapped)
