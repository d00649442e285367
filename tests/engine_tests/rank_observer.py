"""One rank of a two-rank run, started by test_data_parallel.py: trains the counted task of
tests/fixtures/tasks/ranks.py and writes what it saw to ``OUT_FOLDER/rank-<r>.json``."""

import json
import os
import sys
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "tasks"))
sys.path.insert(0, str(Path(__file__).parents[1]))

import ranks
from fakes import cpu_host

from autoaccel.engine import TrainingRun, join, leave, rank_from_environment, use_cores
from autoaccel.knobs import Config
from autoaccel.measure import measure_train

rank = rank_from_environment()
join(rank, "cpu")
use_cores(os.cpu_count() or 1)
config = Config(batch_size=16, world_size=2)
task, data, clock = ranks.counted()
run = TrainingRun(task, config, torch.device("cpu"), seed=0, epochs=2)
epochs = []
for _ in range(2):
    data.seen.clear()
    for batch in run.batches(run.steps_per_epoch):
        run.step(batch)
    epochs.append(list(data.seen))
seen = {
    "ddp": isinstance(run.step_model, DistributedDataParallel),
    "lr": run.optimizer.param_groups[0]["lr"],
    "samples_per_step": run.samples_per_step,
    "threads": torch.get_num_threads(),
    "epochs": epochs,
    "metric": run.evaluate(),
}
task, data, clock = ranks.counted()
measured = measure_train(task, config, cpu_host(), clock=clock)
seen["rate"] = measured.throughput.rate
seen["notes"] = measured.notes
leave(finished=True)
Path(os.environ["OUT_FOLDER"], f"rank-{rank.rank}.json").write_text(json.dumps(seen))
