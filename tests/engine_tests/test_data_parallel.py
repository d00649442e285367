"""A two-rank run on CPU cores (gloo): what each rank trained on, and what it counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import TASKS, cpu_host

from autoaccel.engine import TrainingRun, free_port, rank_environment
from autoaccel.errors import ConfigError
from autoaccel.knobs import Config
from autoaccel.measure import measure_train

OBSERVER = Path(__file__).with_name("rank_observer.py")


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """What each of two ranks saw, training tests/fixtures/tasks/ranks.py's counted task."""
    out = tmp_path_factory.mktemp("ranks")
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, str(OBSERVER)],
            env={**os.environ, **rank_environment(r, 2, port), "OUT_FOLDER": str(out)},
        )
        for r in range(2)
    ]
    try:
        codes = [p.wait(timeout=120) for p in processes]
    finally:
        for p in processes:
            p.kill()
    assert codes == [0, 0]
    return [json.loads((out / f"rank-{r}.json").read_text()) for r in range(2)]


@pytest.mark.slow
def test_each_rank_trains_a_ddp_model_on_its_own_shard(two_ranks) -> None:
    assert [rank["ddp"] for rank in two_ranks] == [True, True]
    for epoch in range(2):
        first, second = (set(rank["epochs"][epoch]) for rank in two_ranks)
        assert not first & second, "the ranks read the same samples"
        assert len(first | second) == 512  # together, the whole of train_data
    # set_epoch: the second epoch is shuffled anew.
    assert two_ranks[0]["epochs"][0] != two_ranks[0]["epochs"][1]


@pytest.mark.slow
def test_the_learning_rate_follows_the_global_batch(two_ranks) -> None:
    # tiny.py: lr 0.1 at its baseline batch of 16, lr_scaling linear; 2 ranks of 16 -> 32.
    assert [rank["lr"] for rank in two_ranks] == [pytest.approx(0.2)] * 2


@pytest.mark.slow
def test_throughput_counts_the_samples_of_every_rank(two_ranks, tiny) -> None:
    assert [rank["samples_per_step"] for rank in two_ranks] == [32, 32]
    # The counted task's clock ticks once per step: a rate is the samples one step counts.
    assert two_ranks[0]["rate"] == pytest.approx(32)
    assert (
        "2 ranks: samples/s counts every rank's samples; peak memory is rank 0's alone"
        in (two_ranks[0]["notes"])
    )
    sys.path.insert(0, str(TASKS))
    import ranks

    task, _, clock = ranks.counted()
    alone = measure_train(task, Config(batch_size=16), cpu_host(), clock=clock)
    assert alone.throughput.rate == pytest.approx(16)


@pytest.mark.slow
def test_ranks_compute_on_disjoint_shares_of_the_cores(two_ranks) -> None:
    cores = len(os.sched_getaffinity(0))
    assert [rank["threads"] for rank in two_ranks] == [max(1, cores // 2)] * 2


@pytest.mark.slow
def test_every_rank_gets_rank_zeros_metric(two_ranks) -> None:
    assert two_ranks[0]["metric"] == two_ranks[1]["metric"]


def test_a_run_of_several_ranks_outside_them_says_how_to_start_them(tiny) -> None:
    import torch

    with pytest.raises(ConfigError, match="world_size=2 trains in that many rank processes"):
        TrainingRun(tiny, Config(batch_size=16, world_size=2), torch.device("cpu"), 0, 1)
