"""What else the machine was doing during a trial, from injected and real CPU counters."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from autoaccel.runner import CpuCounters, LoadMeter


def meter_over(start: CpuCounters, end: CpuCounters, cores: int) -> LoadMeter:
    readings = iter([start, end])
    return LoadMeter(
        list(range(cores)),
        read=lambda _cpus: next(readings),
        load_average=lambda: 1.5,
        gpu_processes=set,
    )


def test_other_processes_share_is_busy_time_not_spent_by_the_trial() -> None:
    # 10 s on 2 cores: 20 core-seconds. Busy 14, of which the trial used 10: others used 4.
    meter = meter_over(CpuCounters(100, 0, 50), CpuCounters(114, 0, 60), cores=2)
    meter.start()
    load = meter.stop(10.0)
    assert load is not None
    assert load.others_share == pytest.approx(0.2)
    assert load.busy
    assert "20%" in load.describe()


def test_a_quiet_machine_is_not_busy() -> None:
    meter = meter_over(CpuCounters(100, 0, 50), CpuCounters(110.2, 0.0, 60), cores=2)
    meter.start()
    load = meter.stop(10.0)
    assert load is not None and not load.busy


def test_stolen_time_makes_a_machine_busy() -> None:
    meter = meter_over(CpuCounters(0, 0, 0), CpuCounters(10, 2, 10), cores=2)
    meter.start()
    load = meter.stop(10.0)
    assert load is not None
    assert load.steal_share == pytest.approx(0.1)
    assert load.busy


def test_another_process_on_the_gpu_makes_a_machine_busy() -> None:
    # One process was on the GPU when the trial started, another was when it ended.
    seen = iter([{4242}, {4242, 5151}])
    readings = iter([CpuCounters(0, 0, 0), CpuCounters(10, 0, 10)])
    meter = LoadMeter(
        [0, 1],
        read=lambda _cpus: next(readings),
        load_average=lambda: None,
        gpu_processes=lambda: next(seen),
    )
    meter.start()
    load = meter.stop(10.0)
    assert load is not None
    assert load.gpu_processes == [4242, 5151]
    assert load.busy and "2 other process(es) computed on the GPU" in load.describe()


def test_no_start_no_load() -> None:
    assert LoadMeter([0]).stop(1.0) is None


SPIN = """
import os, time
os.sched_setaffinity(0, {{{cpu}}})
end = time.time() + 1.5
while time.time() < end:
    pass
"""


SPIN = """
import os, time
os.sched_setaffinity(0, {{{cpu}}})
end = time.time() + 1.5
while time.time() < end:
    pass
"""


@pytest.mark.slow
@pytest.mark.xdist_group("cpu_hog")
def test_a_real_hog_on_the_measured_core_is_seen() -> None:
    cpu = sorted(os.sched_getaffinity(0))[0]
    meter = LoadMeter([cpu])
    meter.start()
    hog = subprocess.Popen(
        [sys.executable, "-c", SPIN.format(cpu=cpu)],
        start_new_session=True,
    )
    time.sleep(1.5)
    load = meter.stop(1.5)
    hog.wait()
    assert load is not None
    # Not waited for when the meter stopped, so the hog counts as another process.
    assert load.others_share > 0.5
