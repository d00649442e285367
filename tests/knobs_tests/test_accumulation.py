"""Gradient accumulation: micro-batches per optimizer step, counted on the objects the
engine builds; the learning rate follows the effective batch."""

from __future__ import annotations

import pytest
import torch

from autoaccel.engine import TrainingRun
from autoaccel.errors import ConfigError
from autoaccel.knobs import Config

CPU = torch.device("cpu")


def counted_run(task, **knob_values) -> tuple[TrainingRun, dict[str, int]]:
    """A run whose optimizer and scheduler count their steps, and whose model its calls."""
    calls = {"optimizer": 0, "scheduler": 0, "forward": 0}

    def scheduler(optimizer, steps):
        calls["total"] = steps
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)

    task = _with(task, scheduler=scheduler)
    run = TrainingRun(task, Config(**knob_values), CPU, seed=0, epochs=1)
    step, scheduler_step = run.optimizer.step, run.scheduler.step

    def count(name, method):
        def counted(*args, **kwargs):
            calls[name] += 1
            return method(*args, **kwargs)

        return counted

    run.optimizer.step = count("optimizer", step)
    run.scheduler.step = count("scheduler", scheduler_step)
    run.step_model.register_forward_hook(
        lambda *_: calls.__setitem__("forward", calls["forward"] + 1)
    )
    return run, calls


def _with(task, **changes):
    import dataclasses

    return dataclasses.replace(task, **changes)


# Counting wraps optimizer.step after the scheduler saw it; torch warns about exactly that.
@pytest.mark.filterwarnings("ignore:Seems like `optimizer.step\\(\\)` has been overridden")
def test_one_optimizer_and_scheduler_step_per_accumulated_micro_batches(tiny) -> None:
    run, calls = counted_run(tiny, batch_size=16, accumulation_steps=4)
    # 512 samples: 32 micro-batches of 16, 8 optimizer steps of 4 micro-batches each.
    assert run.steps_per_epoch == 8
    assert run.total_steps == calls["total"] == 8
    assert run.samples_per_step == 64
    for batch in run.batches(3):
        assert len(batch) == 4
        run.step(batch)
    assert calls == {"optimizer": 3, "scheduler": 3, "forward": 12, "total": 8}


def test_accumulated_gradients_are_the_mean_over_the_micro_batches(tiny) -> None:
    """Four micro-batches of 16 give the gradient one batch of 64 gives (the loss divided
    by the steps), so accumulation changes memory, not what is learned."""
    whole = TrainingRun(tiny, Config(batch_size=64), CPU, seed=0, epochs=1)
    parts = TrainingRun(tiny, Config(batch_size=16, accumulation_steps=4), CPU, seed=0, epochs=1)
    group = next(parts.batches(1))
    batch = (torch.cat([b[0] for b in group]), torch.cat([b[1] for b in group]))
    whole.model.load_state_dict(parts.model.state_dict())
    for run, item in ((whole, batch), (parts, group)):
        run.optimizer.step = lambda: None  # keep the gradients of the same weights
        run.step(item)
    for a, b in zip(whole.model.parameters(), parts.model.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad)


def test_clipping_sees_the_whole_step_once(tiny) -> None:
    clipped = []
    task = _with(tiny, clip_grad_norm=1.0)
    run = TrainingRun(task, Config(batch_size=16, accumulation_steps=2), CPU, seed=0, epochs=1)
    original = torch.nn.utils.clip_grad_norm_
    try:
        torch.nn.utils.clip_grad_norm_ = lambda *a, **k: clipped.append(1) or original(*a, **k)
        run.step(next(run.batches(1)))
    finally:
        torch.nn.utils.clip_grad_norm_ = original
    assert clipped == [1]


def test_the_learning_rate_follows_the_effective_batch(tiny) -> None:
    # tiny: SGD lr 0.1, linear rule, baseline batch 16.
    def lr(**knob_values) -> float:
        run = TrainingRun(tiny, Config(**knob_values), CPU, seed=0, epochs=1)
        return run.optimizer.param_groups[0]["lr"]

    assert lr(batch_size=16, accumulation_steps=4) == pytest.approx(0.4)
    assert lr(batch_size=64) == pytest.approx(0.4)
    held = _with(tiny, baseline=Config(batch_size=16, accumulation_steps=4))
    run = TrainingRun(held, Config(batch_size=32, accumulation_steps=2), CPU, seed=0, epochs=1)
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(0.1)


def test_micro_steps_before_the_last_keep_ddp_gradients_local(tiny, tmp_path) -> None:
    import torch.distributed as dist

    dist.init_process_group(
        "gloo", init_method=f"file://{tmp_path}/rendezvous", rank=0, world_size=1
    )
    try:
        run = TrainingRun(tiny, Config(batch_size=16, accumulation_steps=3), CPU, seed=0, epochs=1)
        ddp = torch.nn.parallel.DistributedDataParallel(run.model)
        synced = []
        original = ddp.no_sync

        def no_sync():
            synced.append(False)
            return original()

        ddp.no_sync = no_sync
        run.step_model = ddp
        run.step(next(run.batches(1)))
        assert synced == [False, False]  # the third, last micro-step all-reduces
    finally:
        dist.destroy_process_group()


def test_more_accumulation_steps_than_batches_is_refused(tiny) -> None:
    with pytest.raises(ConfigError, match="accumulation_steps=64 needs 64 batches"):
        TrainingRun(tiny, Config(batch_size=16, accumulation_steps=64), CPU, seed=0, epochs=1)


def test_accumulation_steps_bad_values_are_refused() -> None:
    from autoaccel.knobs import config_from_dict

    for value in (0, -1, 2.5, "4", True):
        with pytest.raises(ConfigError, match="accumulation_steps"):
            config_from_dict({"accumulation_steps": value}, source="--config")
