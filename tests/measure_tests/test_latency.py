"""Per-request latency: percentiles of injected timings, the request timer on a fake clock,
and a real deploy measurement timing requests at both batch sizes."""

from __future__ import annotations

import itertools

import pytest

from autoaccel.knobs import Config
from autoaccel.measure import measure_deploy, measure_train, percentile, summarise
from autoaccel.measure._latency import MAX_LATENCY_SECONDS, MIN_REQUESTS, time_requests


def test_percentiles_of_injected_timings() -> None:
    # 1..100 ms: the p50 lies between the 50th and 51st, the p99 between the two slowest.
    latency = summarise([ms / 1000 for ms in range(100, 0, -1)], batch_size=4)
    assert latency.p50_ms == pytest.approx(50.5)
    assert latency.p90_ms == pytest.approx(90.1)
    assert latency.p99_ms == pytest.approx(99.01)
    assert (latency.batch_size, latency.requests, latency.note) == (4, 100, None)


def test_one_slow_request_in_a_hundred_shows_in_the_p99_only() -> None:
    latency = summarise([0.001] * 99 + [0.5], batch_size=1)
    assert latency.p50_ms == pytest.approx(1.0) and latency.p90_ms == pytest.approx(1.0)
    assert latency.p99_ms > 5.0


def test_few_requests_say_so() -> None:
    latency = summarise([0.01] * 20, batch_size=1)
    assert latency.note is not None and "only 20 requests" in latency.note


def test_percentile_needs_timings() -> None:
    with pytest.raises(ValueError):
        percentile([], 99)
    assert percentile([3.0], 99) == 3.0


def fake_clock(step_s: float):
    ticks = itertools.count()
    return lambda: next(ticks) * step_s


def test_fast_requests_are_timed_at_least_a_hundred_times_each_synchronised() -> None:
    calls, syncs = [], []
    timings = time_requests(lambda: calls.append(1), lambda: syncs.append(1), fake_clock(1e-6))
    assert MIN_REQUESTS <= len(timings) <= 1000
    # Warm-up requests are served but not timed; each timed request is synchronised.
    assert len(calls) == len(timings) + 3 and len(syncs) == len(timings) + 1


def test_slow_requests_stop_at_the_time_limit() -> None:
    # Every clock reading advances a second: far past the limit before a hundred requests.
    timings = time_requests(lambda: None, lambda: None, fake_clock(1.0))
    assert len(timings) < MIN_REQUESTS
    # Three clock readings per request: the limit check, its start and its end.
    assert len(timings) == pytest.approx(MAX_LATENCY_SECONDS / 3, abs=1)


def test_deploy_times_requests_at_its_batch_and_the_latency_batch(
    tiny, cpu_profile, tmp_path
) -> None:
    weights = tmp_path / "tiny.pt"
    measure_train(tiny, Config(batch_size=16), cpu_profile, save_weights=weights)
    m = measure_deploy(tiny, Config(batch_size=32), cpu_profile, weights, window_s=0.01)
    assert [item.batch_size for item in m.latency] == [1, 32]
    for item in m.latency:
        assert item.requests >= MIN_REQUESTS and item.note is None
        assert 0 < item.p50_ms <= item.p90_ms <= item.p99_ms
    assert m.latency_at(32).p50_ms > m.latency_at(1).p50_ms
    same = measure_deploy(
        tiny, Config(batch_size=8), cpu_profile, weights, window_s=0.01, latency_batch=8
    )
    assert [item.batch_size for item in same.latency] == [8]
