"""optimizer_impl: the task's optimizer built again with foreach or fused, same class,
parameter groups and hyper-parameters; refused where the class or the device cannot."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from fakes import cpu_host, task_facts

from autoaccel import knobs
from autoaccel.engine import TrainingRun
from autoaccel.errors import ConfigError
from autoaccel.knobs import Config
from autoaccel.probe import Accelerator

CPU = torch.device("cpu")


def two_groups(params):
    first, *rest = list(params)
    return torch.optim.AdamW(
        [{"params": [first], "lr": 0.01}, {"params": rest, "weight_decay": 0.0}],
        lr=0.003,
        betas=(0.8, 0.99),
        weight_decay=0.05,
    )


def without_params(groups):
    return [{k: v for k, v in g.items() if k not in ("params", "foreach", "fused")} for g in groups]


@pytest.mark.parametrize("flag", ["foreach", "fused"])
def test_the_rebuilt_optimizer_takes_the_flag_and_keeps_the_groups(tiny, flag) -> None:
    task = dataclasses.replace(tiny, optimizer=two_groups, lr_scaling="none")
    plain = TrainingRun(task, Config(batch_size=16), CPU, seed=0, epochs=1).optimizer
    run = TrainingRun(task, Config(batch_size=16, optimizer_impl=flag), CPU, seed=0, epochs=1)
    rebuilt = run.optimizer
    assert type(rebuilt) is torch.optim.AdamW
    assert all(group[flag] is True for group in rebuilt.param_groups)
    assert not any(group[flag] for group in plain.param_groups)
    assert without_params(rebuilt.param_groups) == without_params(plain.param_groups)
    model_params = list(run.model.parameters())
    assert [p for g in rebuilt.param_groups for p in g["params"]] == model_params
    assert not rebuilt.state
    run.step(next(run.batches(1)))  # and it steps
    assert len(rebuilt.state) == len(model_params)


def test_fused_on_the_cpu_updates_as_the_loop_does(tiny) -> None:
    weights = []
    for impl in ("default", "fused"):
        run = TrainingRun(tiny, Config(batch_size=16, optimizer_impl=impl), CPU, seed=0, epochs=1)
        for batch in run.batches(3):
            run.step(batch)
        weights.append([p.detach().clone() for p in run.model.parameters()])
    for a, b in zip(*weights, strict=True):
        torch.testing.assert_close(a, b)


def test_an_optimizer_without_the_flag_is_refused_when_built(tiny) -> None:
    task = dataclasses.replace(tiny, optimizer=lambda p: torch.optim.RMSprop(p, lr=0.01))
    with pytest.raises(ConfigError, match="torch.optim.rmsprop.RMSprop takes no fused="):
        TrainingRun(task, Config(batch_size=16, optimizer_impl="fused"), CPU, seed=0, epochs=1)


def test_the_inspection_records_the_class_and_its_flags() -> None:
    assert knobs.optimizer_impl.flags_taken(torch.optim.AdamW) == ("foreach", "fused")
    assert knobs.optimizer_impl.flags_taken(torch.optim.RMSprop) == ("foreach",)
    assert (
        knobs.optimizer_impl.flags_taken(
            type("Own", (torch.optim.SGD,), {"__init__": lambda self, params, **kwargs: None})
        )
        == ()
    )


SGD = task_facts(optimizer="torch.optim.sgd.SGD", optimizer_flags=("foreach", "fused"))
RMSPROP = task_facts(optimizer="torch.optim.rmsprop.RMSprop", optimizer_flags=("foreach",))
OWN = task_facts(optimizer="my.Lion", optimizer_flags=())


@pytest.mark.parametrize(
    ("value", "facts", "device", "expected"),
    [
        ("default", task_facts(), "cpu", None),
        ("fused", SGD, "cpu", None),
        ("foreach", RMSPROP, "cpu", None),
        ("fused", RMSPROP, "cpu", "takes no fused="),
        ("foreach", OWN, "cpu", "my.Lion takes no foreach="),
        ("foreach", task_facts(), "cpu", "start a new study"),
        ("fused", None, "tpu", "fused optimizers run on cuda, cpu"),
        ("fused", SGD, "tpu", "fused optimizers run on cuda, cpu"),
        ("fused", None, "cpu", None),
    ],
)
def test_refusals(value, facts, device, expected) -> None:
    hw = cpu_host()
    if device != "cpu":
        hw = hw.model_copy(update={"accelerators": [Accelerator(kind=device, supported=True)]})
    reason = knobs.choice_refusal("optimizer_impl", value, hw, facts)
    if expected is None:
        assert reason is None
    else:
        assert expected in reason


def test_inspect_task_records_the_optimizer_class_and_flags(tasks_dir) -> None:
    from autoaccel.engine import inspect_task
    from autoaccel.task import load_task, resolve_script

    target = resolve_script(str(tasks_dir / "tiny.py"))
    facts = inspect_task(load_task(target), target)
    assert facts.optimizer == "torch.optim.sgd.SGD"
    assert facts.optimizer_flags == ("foreach", "fused")
