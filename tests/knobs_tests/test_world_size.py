"""world_size: which machines can start its ranks, and why not."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import cpu_host, gpu_host, task_facts

from autoaccel import knobs
from autoaccel.errors import ConfigError, SearchSpaceError
from autoaccel.knobs import Config
from autoaccel.probe import Accelerator, Software
from autoaccel.study import fit_to, load_space

# The packaged default (autoaccel.search_spaces), read from this checkout.
DEFAULT_TRAIN_SPACE = Path(__file__).parents[2] / "search_spaces" / "train.yaml"


def refusal(value: int, hw, facts=None) -> str | None:
    return knobs.choice_refusal("world_size", value, hw, facts)


def test_a_cpu_gives_each_rank_a_core() -> None:
    assert refusal(1, cpu_host(cores=2)) is None
    assert refusal(2, cpu_host(cores=2)) is None
    assert "needs a core per rank; this process may use 2" in refusal(4, cpu_host(cores=2))


def test_cuda_gives_each_rank_a_gpu() -> None:
    one = gpu_host("NVIDIA H100", "9.0")
    assert "needs a GPU per rank; the probe saw 1" in refusal(2, one)
    two = one.model_copy(
        update={"accelerators": [*one.accelerators, one.accelerators[0].model_copy()]}
    )
    assert refusal(2, two) is None
    assert "the probe saw 2" in refusal(4, two)


def test_other_accelerators_run_one_rank() -> None:
    mac = cpu_host().model_copy(update={"accelerators": [Accelerator(kind="mps")]})
    assert refusal(1, mac) is None
    assert "does not start ranks on mps" in refusal(2, mac)


def test_a_torch_without_distributed_runs_one_rank() -> None:
    hw = cpu_host(cores=8).model_copy(update={"software": Software(distributed=False)})
    assert refusal(1, hw) is None
    assert "needs torch.distributed, which this torch build lacks" in refusal(2, hw)


def test_a_task_that_makes_its_own_batches_runs_one_rank() -> None:
    own = task_facts(own_batches=True)
    assert refusal(1, cpu_host(), own) is None
    assert "Task.train_batches), which autoaccel cannot shard" in refusal(2, cpu_host(), own)


def test_the_default_space_keeps_the_ranks_the_machine_has() -> None:
    facts = task_facts()
    space = load_space(DEFAULT_TRAIN_SPACE, "train")
    fitted = fit_to(space, cpu_host(cores=2), facts, facts.baseline)
    assert fitted.choices["world_size"] == [1, 2]
    assert "needs a core per rank" in fitted.dropped["world_size"]["8"]
    eight_gpus = gpu_host("NVIDIA H100", "9.0", cores=64)
    eight_gpus = eight_gpus.model_copy(update={"accelerators": eight_gpus.accelerators * 8})
    assert fit_to(space, eight_gpus, facts, facts.baseline).choices["world_size"] == [1, 2, 4, 8]


@pytest.mark.parametrize("value", [0, -1, 2.5, "two"])
def test_a_bad_world_size_says_what_is_allowed(tmp_path, value) -> None:
    with pytest.raises(ConfigError, match="world_size"):
        knobs.config_from_dict({"world_size": value}, source="--config")
    path = tmp_path / "space.yaml"
    path.write_text(f"world_size: [1, {value!r}]\n")
    with pytest.raises(SearchSpaceError, match="world_size"):
        load_space(path, "train")


def test_world_size_is_a_train_stage_knob() -> None:
    assert "world_size" in knobs.TRAIN_KNOBS
    assert "world_size" not in knobs.DEPLOY_KNOBS
    assert Config().world_size == 1
