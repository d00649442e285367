"""Measuring runs without a metric: the span is whole epochs when epochs are short."""

from __future__ import annotations

from autoaccel.knobs import Config
from autoaccel.measure import train_pace
from autoaccel.task import load_task


def test_a_short_epoch_is_timed_whole_from_the_second_one_on(tiny, cpu_profile) -> None:
    config = Config(batch_size=16)
    per_epoch = len(tiny.train_data) // 16
    pace = train_pace(tiny, config, cpu_profile, min_span_s=0.05, max_span_s=1000.0)
    assert pace.timed_steps % per_epoch == 0
    assert pace.warmup_steps % per_epoch == 0  # the span starts at an epoch's first step
    assert pace.throughput.boundaries == pace.timed_steps // per_epoch >= 2
    assert pace.throughput.rate > 0
    assert pace.notes == []


def test_a_long_epoch_is_timed_inside_it_and_says_so(tiny, cpu_profile) -> None:
    # A span limit far under one epoch: the span cannot hold a boundary.
    per_epoch = len(tiny.train_data) // 16
    pace = train_pace(tiny, Config(batch_size=16), cpu_profile, min_span_s=0.01, max_span_s=1e-6)
    assert 8 <= pace.timed_steps < per_epoch
    assert "not in it" in pace.notes[0]


def test_the_span_rate_pays_a_slow_epoch_start_that_windows_leave_out(cpu_profile, request):
    # Each epoch start costs EPOCH_START_S, a periodic cost real training pays.
    path = request.config.rootpath / "tests/fixtures/tasks/tiny.py"
    task = load_task(f"{path}:slow_start")
    pace = train_pace(task, Config(batch_size=16), cpu_profile, min_span_s=0.1, max_span_s=1e3)
    throughput = pace.throughput
    assert throughput.boundaries >= 2
    samples = pace.timed_steps * 16
    # The span's seconds beyond what the steady windows' rate accounts for.
    extra_s = samples / throughput.rate - samples / throughput.median
    assert extra_s > 0.5 * 0.2 * throughput.boundaries
