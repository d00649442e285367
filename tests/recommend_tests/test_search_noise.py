"""A speedup from the search alone (no paired rounds) is one measurement against one:
when the windows of the two overlap, it is called noise, however large the ratio."""

from __future__ import annotations

from fakes import measurement

from autoaccel import _format as fmt
from autoaccel.knobs import Config
from autoaccel.recommend import TrialRecord, recommend_stage
from autoaccel.report import summary_rows


def record(number: int, config: Config, rate: float, spread, role: str | None = None):
    m = measurement("train", rate, 0.9, spread=spread)
    extra = {"role": role} if role else {}
    return TrialRecord(number=number, config=config, outcome="ok", measurement=m, **extra)


def recommendation(baseline_spread, candidate_spread):
    records = [
        record(0, Config(batch_size=64), 100.0, baseline_spread, role="baseline"),
        record(1, Config(batch_size=256), 3105.0, candidate_spread),
    ]
    rec = recommend_stage(records, "train", 0.01)
    assert rec is not None and rec.confirmed_rounds == 0
    return rec


def test_an_unstable_baseline_makes_a_large_search_speedup_noise() -> None:
    # The baseline's windows run from 10/s to 4,500/s: its fast quartile outruns the
    # candidate's slow one, so the 31x claim cannot be told from chance.
    rec = recommendation((0.1, 0.2, 1.0, 40.0, 45.0), (0.5, 1.0, 1.02))

    low, high = rec.speedup_range
    assert low <= 1.0 < 31.0 < high
    text = dict(summary_rows(rec))["speedup"]
    assert text.startswith("31.05x from the search alone")
    assert "inside the noise" in text
    assert fmt.claim(rec.speedup, rec.speedup_range, False).endswith(", noise] (unconfirmed)")


def test_steady_windows_keep_the_search_speedup_with_its_range() -> None:
    rec = recommendation((0.98, 1.0, 1.02), (0.98, 1.0, 1.02))

    low, high = rec.speedup_range
    assert 29.0 < low < 31.05 < high < 33.0
    text = dict(summary_rows(rec))["speedup"]
    assert "noise" not in text and "its timed windows give" in text
    assert fmt.claim(rec.speedup, rec.speedup_range, False) == (
        f"31.05x [{low:.2f}-{high:.2f}] (unconfirmed)"
    )


def test_the_baseline_itself_has_no_range() -> None:
    records = [record(0, Config(batch_size=64), 100.0, (0.98, 1.0, 1.02), role="baseline")]
    rec = recommend_stage(records, "train", 0.01)
    assert rec is not None and rec.speedup_range is None
