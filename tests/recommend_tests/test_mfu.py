"""MFU is shown against the peak of each trial's precision and against the device's best
peak, both labelled: an fp32 baseline at 66.6% of the fp32 peak next to a bf16 winner at
35.3% of the bf16 peak must not read as a regression."""

from __future__ import annotations

from fakes import measurement

from autoaccel import _format as fmt
from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord, recommend_stage
from autoaccel.report import summary_rows

FP32_PEAK, BF16_PEAK = 100e9, 400e9


def ok(number: int, config: Config, rate: float, achieved: float, role: str | None = None):
    peak = BF16_PEAK if config.precision == "bf16" else FP32_PEAK
    m = measurement(
        "train",
        rate,
        0.9,
        achieved_flops=achieved,
        mfu=achieved / peak,
        peak_flops=peak,
        peak_dtype=config.precision,
        best_peak_dtype="bf16",
        best_peak_flops=BF16_PEAK,
    )
    extra = {"role": role} if role else {}
    return TrialRecord(number=number, config=config, outcome="ok", measurement=m, **extra)


def test_both_figures_are_labelled_in_the_summary() -> None:
    records = [
        ok(0, Config(batch_size=64), 1000.0, 66.6e9, role="baseline"),
        ok(1, Config(batch_size=64, precision="bf16"), 2120.0, 141.2e9),
    ]
    rec = recommend_stage(records, "train", 0.01)
    assert rec is not None

    assert (rec.peak_dtype, rec.baseline_peak_dtype, rec.best_peak_dtype) == (
        "bf16",
        "fp32",
        "bf16",
    )
    assert rec.mfu_of_best == 141.2e9 / BF16_PEAK
    assert rec.baseline_mfu_of_best == 66.6e9 / BF16_PEAK
    mfu = dict(summary_rows(rec))["MFU"]
    assert mfu == (
        "35.3% of the bf16 peak vs baseline 66.6% of the fp32 peak, 16.7% of the best (bf16)"
    )


def test_text_without_a_known_precision_or_best_stays_plain() -> None:
    assert fmt.mfu(None, "fp32", 0.1, "bf16") == "-"
    assert fmt.mfu(0.25, None, None, None) == "25.0%"
    assert fmt.mfu(0.25, "bf16", 0.25, "bf16") == "25.0% of the bf16 peak"


def test_a_precision_without_a_known_peak_is_named() -> None:
    baseline = ok(0, Config(batch_size=64), 1000.0, 66.6e9, role="baseline")
    int8 = measurement("deploy", 3000.0, 0.9, achieved_flops=2e11, peak_dtype="int8")
    records = [baseline, TrialRecord(number=1, config=Config(), outcome="ok", measurement=int8)]
    rec = recommend_stage(records, "train", 0.01)
    assert rec is not None and rec.trial == 1

    assert "the device's int8 peak FLOP/s is unknown, so MFU is not reported" in rec.limits
    assert dict(summary_rows(rec))["MFU"].startswith("- vs baseline 66.6% of the fp32 peak")
