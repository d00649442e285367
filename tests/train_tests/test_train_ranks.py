"""``python train.py`` with a saved recommendation of world_size 2: two ranks train, and
the script's own code after ``autoaccel.train`` runs once."""

from __future__ import annotations

import subprocess
import sys

import pytest
from fakes import TASKS

from autoaccel.knobs import Config
from autoaccel.measure import Throughput
from autoaccel.recommend import Recommendation, StageRecommendation
from autoaccel.study import StudyFolder

SCRIPT = f"""
import os
import sys

sys.path.insert(0, {str(TASKS)!r})
import torch
from tiny import build

import autoaccel


def loss(outputs, targets):
    with open("trainers.txt", "a") as trainers:  # which processes trained, and as which rank
        trainers.write(f"{{os.getpid()}} {{os.environ.get('RANK', 'alone')}}\\n")
    return torch.nn.functional.cross_entropy(outputs, targets)


task = build(loss=loss)

if __name__ == "__main__":
    result = autoaccel.train(task)
    print(f"saving from {{os.getpid()}}, {{result.config.world_size}} ranks")
    torch.save(result.model.state_dict(), "model.pt")
"""


def recommend(root, config: Config) -> None:
    rate = Throughput.from_windows([100.0])
    choice = StageRecommendation(
        stage="train",
        config=config,
        trial=1,
        baseline_trial=0,
        throughput=rate,
        baseline_throughput=rate,
        speedup=1.0,
        metric=0.9,
        baseline_metric=0.9,
        metric_name="accuracy",
        max_metric_drop=0.01,
        finished_trials=2,
        feasible_trials=2,
    )
    folder = StudyFolder("train", root / "studies").path
    Recommendation(study="train", stages={"train": choice}).write(folder)


@pytest.mark.slow
def test_a_recommended_world_size_trains_in_that_many_ranks(tmp_path) -> None:
    (tmp_path / "train.py").write_text(SCRIPT)
    recommend(tmp_path, Config(batch_size=16, world_size=2))
    run = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert run.returncode == 0, run.stderr
    trainers = {
        tuple(line.split()) for line in (tmp_path / "trainers.txt").read_text().split("\n") if line
    }
    pids = {pid for pid, _ in trainers}
    assert len(pids) == 2 and {rank for _, rank in trainers} == {"alone", "1"}
    # Rank 0 is the user's own process; it alone speaks, and carries on after train().
    assert run.stdout.count("autoaccel: training with the recommendation") == 1
    assert run.stdout.count("saving from") == 1
    assert "2 ranks" in run.stdout
    assert (tmp_path / "model.pt").exists()


def test_ranks_need_a_script_to_start_again(tiny, monkeypatch) -> None:
    import types

    import autoaccel
    from autoaccel.errors import ConfigError

    monkeypatch.setattr(sys, "modules", {**sys.modules, "__main__": types.ModuleType("__main__")})
    with pytest.raises(ConfigError, match="run it as python train.py, not from a notebook"):
        autoaccel.train(tiny, {"batch_size": 16, "world_size": 2}, log=lambda _: None)


BREAKS_ON_RANK_ONE = f"""
import os
import sys

sys.path.insert(0, {str(TASKS)!r})
import torch
from tiny import build

import autoaccel

steps = []


def loss(outputs, targets):
    steps.append(1)
    if os.environ.get("RANK") == "1" and len(steps) == 3:
        raise ValueError("rank one's data is bad")
    return torch.nn.functional.cross_entropy(outputs, targets)


if __name__ == "__main__":
    autoaccel.train(build(loss=loss))
    print("carried on")
"""


@pytest.mark.slow
def test_a_rank_that_fails_is_named_and_nothing_carries_on(tmp_path) -> None:
    (tmp_path / "train.py").write_text(BREAKS_ON_RANK_ONE)
    recommend(tmp_path, Config(batch_size=16, world_size=2))
    run = subprocess.run(
        [sys.executable, "train.py"], cwd=tmp_path, capture_output=True, text=True, timeout=240
    )
    assert run.returncode != 0
    assert "ValueError: rank one's data is bad" in run.stderr  # rank 1's own traceback
    assert "RunFailedError: rank 1 of 2 ended with exit code 1" in run.stderr
    assert "carried on" not in run.stdout
