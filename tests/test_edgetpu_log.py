"""Edge TPU compiler log parsing (on real published logs) and the Edge TPU readiness check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from studio.core.edgetpu.compiler_log import CompilerReport, parse_compiler_log, parse_size
from studio.core.edgetpu.ops import SUPPORTED_OPS, OpInfo, check_readiness

LOGS = Path(__file__).parent / "data" / "edgetpu_logs"
KIB, MIB = 1024, 1024**2
MAPPED = "Mapped to Edge TPU"
SUBGRAPH = "More than one subgraph is not supported"
UNSPECIFIED = "Operation is otherwise supported, but not mapped due to some unspecified limitation"


def parse(name: str) -> CompilerReport:
    return parse_compiler_log((LOGS / name).read_text(encoding="utf-8"))


def rows(report: CompilerReport) -> list[tuple[str, int, str]]:
    return [(op.operator, op.count, op.status) for op in report.ops]


def test_every_fixture_is_listed_in_sources() -> None:
    sources = (LOGS / "SOURCES.md").read_text(encoding="utf-8")
    files = sorted(path.name for path in LOGS.glob("*.txt"))
    assert len(files) >= 4
    for name in files:
        assert f"`{name}`" in sources


def test_issue60_stdout_with_subgraph_split() -> None:
    report = parse("coral_issue60_model2_subgraphs.txt")
    assert report.succeeded and report.errors == []
    assert report.compiler_version == "2.1.302470888"
    assert report.compile_seconds == pytest.approx(12.264)
    assert report.input_model == "model2.tflite"
    assert report.output_model == "model2_edgetpu.tflite"
    assert report.output_size_bytes == round(9.47 * MIB)
    assert report.on_chip_memory_bytes == round(6.86 * MIB)
    assert report.on_chip_remaining_bytes == round(7.75 * KIB) == 7936
    assert report.off_chip_memory_bytes == round(1.22 * MIB)
    assert (report.subgraphs_on_tpu, report.total_ops) == (1, 93)
    assert (report.ops_mapped, report.ops_on_cpu) == (83, 10)
    assert rows(report) == [("LOGISTIC", 1, SUBGRAPH), ("ADD", 10, MAPPED),
                            ("CONCATENATION", 1, SUBGRAPH), ("CONCATENATION", 3, MAPPED)]
    assert [op.mapped for op in report.ops] == [False, True, False, True]


def test_issue342_transpose_not_supported() -> None:
    report = parse("coral_issue342_transpose_not_supported.txt")
    assert report.succeeded
    assert (report.ops_mapped, report.ops_on_cpu) == (2, 153)
    assert report.compiler_version is None and report.total_ops is None
    assert len(report.ops) == 10
    assert rows(report)[0] == ("TRANSPOSE", 70, "Operation not supported")
    assert ("QUANTIZE", 1, UNSPECIFIED) in rows(report)
    assert sum(op.count for op in report.ops) == 155
    assert sum(op.count for op in report.ops if op.mapped) == report.ops_mapped == 2
    assert [op.operator for op in report.ops if op.mapped] == ["PAD", "QUANTIZE"]
    assert sum(op.count for op in report.ops if op.status == SUBGRAPH) == 82


def test_issue219_unspecified_limitation() -> None:
    report = parse("coral_issue219_mul_split_unspecified.txt")
    assert report.succeeded
    assert (report.ops_mapped, report.ops_on_cpu) == (0, 2)
    assert rows(report) == [("MUL", 1, UNSPECIFIED), ("SPLIT", 1, UNSPECIFIED)]
    assert report.unmapped_ops == report.ops


def test_issue27_odd_status_text_is_kept_verbatim() -> None:
    report = parse("coral_issue27_fully_connected_2d_output.txt")
    assert (report.ops_mapped, report.ops_on_cpu) == (0, 1)
    assert rows(report) == [("FULLY_CONNECTED", 1, "For example, a fully-connected or softmax layer with 2D output")]
    assert not report.ops[0].mapped


def test_issue358_internal_compiler_error() -> None:
    report = parse("coral_issue358_internal_compiler_error.txt")
    assert not report.succeeded
    assert report.compiler_version == "15.0.340273435"
    assert report.errors == ["Internal compiler error. Aborting!"]
    assert report.ops == [] and report.total_ops is None and report.ops_mapped is None


def test_issue512_compilation_failed_with_error_lines() -> None:
    report = parse("coral_issue512_large_activation_tensors.txt")
    assert not report.succeeded
    assert report.compiler_version == "16.0.384591198"
    assert "ERROR: Restored original execution plan after delegate application failure." in report.errors
    assert "Compilation failed: Compilation failed due to large activation tensors in model." in report.errors
    assert "Compilation failed!" in report.errors
    assert report.compile_seconds is None and report.output_model is None


def test_issue168_model_not_quantized() -> None:
    report = parse("coral_issue168_model_not_quantized.txt")
    assert not report.succeeded
    assert report.compiler_version == "14.1.317412892"
    assert report.errors == ["Invalid model: my_mnist_quant.tflite", "Model not quantized"]


def test_yolov7_fully_mapped_stdout() -> None:
    report = parse("yolov7_pr1672_fully_mapped.txt")
    assert report.succeeded and report.errors == []
    assert report.compiler_version == "16.0.384591198"
    assert report.compile_seconds == pytest.approx(3.133)
    assert report.input_model == "runs/train/exp8/weights/best-int8.tflite"
    assert report.output_model == "runs/train/exp8/weights/best-int8_edgetpu.tflite"
    assert report.output_size_bytes == round(6.47 * MIB)
    assert report.on_chip_memory_bytes == round(5.90 * MIB)
    assert report.on_chip_remaining_bytes == round(1.16 * MIB)
    assert report.off_chip_memory_bytes == 42752  # 41.75KiB
    assert (report.subgraphs_on_tpu, report.total_ops) == (1, 246)
    # a fully mapped model prints no per-device counts: all 246 run on the Edge TPU
    assert (report.ops_mapped, report.ops_on_cpu) == (246, 0)
    assert len(report.ops) == 8 and all(op.mapped for op in report.ops)
    assert ("LOGISTIC", 64, MAPPED) in rows(report)


def test_nrf20_operation_logs() -> None:
    full = parse("nrf20_mnist7_ops_log_fully_mapped.txt")
    assert full.succeeded
    assert full.compiler_version == "15.0.340273435"
    assert (full.input_model, full.output_model) == ("mnist7.tflite", "mnist7_edgetpu.tflite")
    assert rows(full) == [("SOFTMAX", 1, MAPPED), ("FULLY_CONNECTED", 2, MAPPED), ("RESHAPE", 1, MAPPED),
                          ("CONV_2D", 2, MAPPED), ("MAX_POOL_2D", 2, MAPPED)]
    assert (full.ops_mapped, full.ops_on_cpu) == (8, 0)

    float_io = parse("nrf20_mnist4_ops_log_float_io.txt")
    assert float_io.succeeded and float_io.input_model == "mnist4.tflite"
    assert [(op.operator, op.status) for op in float_io.unmapped_ops] == [
        ("QUANTIZE", UNSPECIFIED), ("DEQUANTIZE", "Operation is working on an unsupported data type")]
    assert (float_io.ops_mapped, float_io.ops_on_cpu) == (8, 2)


def test_retinanet_operation_log() -> None:
    report = parse("retinanet_tiny_yolo_ops_log.txt")
    assert report.compiler_version == "14.1.317412892"
    assert report.output_model == "tiny_yolo_edgetpu.tflite"
    assert len(report.ops) == 8
    assert ("RESIZE_NEAREST_NEIGHBOR", 1, "Operation version not supported") in rows(report)
    assert [op.status for op in report.ops if op.operator == "QUANTIZE"] == [UNSPECIFIED, SUBGRAPH, MAPPED]
    assert (report.ops_mapped, report.ops_on_cpu) == (19, 6)


def test_yolov4_counts_are_reported_as_printed() -> None:
    report = parse("yolov4_issue69_one_op_mapped.txt")
    assert report.succeeded and report.compiler_version is None
    assert report.output_size_bytes == round(62.58 * MIB)
    assert report.on_chip_memory_bytes == 3 * KIB
    assert report.on_chip_remaining_bytes == round(7.84 * MIB)
    assert report.off_chip_memory_bytes == 0
    assert (report.total_ops, report.ops_mapped, report.ops_on_cpu) == (962, 1, 962)
    assert report.ops == []


def test_windows_line_endings_and_quote_markers_give_the_same_report() -> None:
    text = (LOGS / "coral_issue60_model2_subgraphs.txt").read_text(encoding="utf-8")
    plain = parse_compiler_log(text).to_json()
    assert parse_compiler_log(text.replace("\n", "\r\n")).to_json() == plain
    assert parse_compiler_log("\n".join("> " + line for line in text.split("\n"))).to_json() == plain
    assert parse_compiler_log(text.encode("utf-8")).to_json() == plain


def test_other_column_widths_give_the_same_table() -> None:
    text = (LOGS / "coral_issue342_transpose_not_supported.txt").read_text(encoding="utf-8")
    squeezed = re.sub(r"(?m)^(\w+) +(\d+) +", r"\1 \2\t", text).replace("Operator                       Count",
                                                                         "Operator   Count")
    assert rows(parse_compiler_log(squeezed)) == rows(parse_compiler_log(text))


@pytest.mark.parametrize("junk", ["", None, 42, "\x00\xff garbage\nOperator Count Status\nnot a row", "ERROR: x"])
def test_odd_input_never_raises(junk: object) -> None:
    report = parse_compiler_log(junk)  # type: ignore[arg-type]
    assert not report.succeeded and report.errors
    assert isinstance(report.to_json(), dict)


def test_parse_size_units() -> None:
    assert parse_size("6.91MiB") == round(6.91 * MIB)
    assert parse_size("340.00KiB") == 340 * KIB
    assert parse_size("0.00B") == 0
    assert parse_size("n/a") is None


def test_json_has_mapped_flag() -> None:
    data = parse("coral_issue219_mul_split_unspecified.txt").to_json()
    assert data["ops"][0] == {"operator": "MUL", "count": 1, "status": UNSPECIFIED, "mapped": False}


# --- readiness -------------------------------------------------------------------------------

def fully_connected(index: int, dtype: str = "int8", units: int = 64, features: int = 8) -> OpInfo:
    bias = "int32" if dtype in ("int8", "uint8") else dtype
    return OpInfo(index, "FULLY_CONNECTED", [dtype, dtype, bias], [dtype],
                  [[1, features], [units, features], [units]], [[1, units]])


def activation(index: int, name: str, dtype: str = "int8", width: int = 64) -> OpInfo:
    return OpInfo(index, name, [dtype], [dtype], [[1, width]], [[1, width]])


def int8_mlp() -> list[OpInfo]:
    return [OpInfo(0, "QUANTIZE", ["float32"], ["int8"], [[1, 8]], [[1, 8]]),
            fully_connected(1), activation(2, "TANH"), fully_connected(3, features=64), activation(4, "TANH"),
            fully_connected(5, units=2, features=64),
            OpInfo(6, "DEQUANTIZE", ["int8"], ["float32"], [[1, 2]], [[1, 2]])]


def test_documented_ops_are_in_the_table() -> None:
    for name in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "TANH", "LOGISTIC", "ADD", "MUL", "RESHAPE",
                 "SOFTMAX", "QUANTIZE"):
        assert name in SUPPORTED_OPS
    assert "DEQUANTIZE" not in SUPPORTED_OPS and "ARG_MAX" not in SUPPORTED_OPS
    assert "one-dimensional" in SUPPORTED_OPS["FULLY_CONNECTED"]


def test_int8_mlp_is_ready() -> None:
    report = check_readiness(int8_mlp())
    assert report.ready and report.issues == []
    assert [row["status"] for row in report.ops] == ["cpu", "maps", "maps", "maps", "maps", "maps", "cpu"]
    assert report.ops[0]["reason"] == report.ops[-1]["reason"] == "float input/output conversion runs on the CPU"
    assert report.summary.startswith("5 of 7 ops map to the Edge TPU; 2 run on the CPU")
    assert report.to_json()["ops"][1] == {"index": 1, "op": "FULLY_CONNECTED", "status": "maps", "reason": ""}


def test_float_fully_connected_is_not_ready() -> None:
    report = check_readiness([fully_connected(0, "float32")])
    assert not report.ready
    assert [(issue.op_index, issue.op) for issue in report.issues] == [(0, "FULLY_CONNECTED")]
    assert "float32" in report.issues[0].problem and "8-bit" in report.issues[0].problem
    assert report.ops[0]["status"] == "cpu"
    assert "not 8-bit quantized" in report.summary


def test_unsupported_op_in_the_middle_sends_the_rest_to_the_cpu() -> None:
    ops = int8_mlp()
    ops.insert(3, OpInfo(99, "ARG_MAX", ["int8", "int32"], ["int32"], [[1, 64], [1]], [[1]]))
    report = check_readiness(ops)
    assert not report.ready
    assert [(row["op"], row["status"]) for row in report.ops] == [
        ("QUANTIZE", "cpu"), ("FULLY_CONNECTED", "maps"), ("TANH", "maps"), ("ARG_MAX", "cpu"),
        ("FULLY_CONNECTED", "cpu"), ("TANH", "cpu"), ("FULLY_CONNECTED", "cpu"), ("DEQUANTIZE", "cpu")]
    assert [(issue.op_index, issue.op) for issue in report.issues] == [(99, "ARG_MAX")]
    assert "ARG_MAX" in report.ops[4]["reason"]
    assert report.summary.startswith("2 of 8 ops map to the Edge TPU; 6 run on the CPU (ARG_MAX not supported")


def test_two_subgraphs_is_an_issue() -> None:
    report = check_readiness(int8_mlp(), subgraphs=2)
    assert not report.ready and report.subgraphs == 2
    assert len(report.issues) == 1 and report.issues[0].op_index is None
    assert "2 subgraphs" in report.issues[0].problem


def test_dynamic_input_is_an_issue() -> None:
    report = check_readiness(int8_mlp(), dynamic_inputs=["observation"])
    assert not report.ready
    assert len(report.issues) == 1 and "observation" in report.issues[0].problem
    assert "dynamic" in report.summary


def test_middle_dequantize_and_big_batch_are_caught() -> None:
    ops = int8_mlp()
    ops[2] = activation(2, "DEQUANTIZE")
    assert [row["status"] for row in check_readiness(ops).ops][1:4] == ["maps", "cpu", "cpu"]
    batched = OpInfo(0, "CONV_2D", ["int8", "int8", "int32"], ["int8"], [[4, 2, 8, 8, 3]], [[4, 2, 8, 8, 16]])
    assert not check_readiness([batched]).ready
    assert check_readiness([OpInfo(0, "CONV_2D", ["int8", "int8", "int32"], ["int8"],
                                   [[1, 8, 8, 3], [16, 3, 3, 3], [16]], [[1, 8, 8, 16]])]).ready
