"""An LSTM language model with its own loop: its hidden state carried from batch to batch,
clipped gradients, the learning rate lowered on a validation plateau, judged by perplexity.
Rewritten from its standalone form in a few lines, tuned, and still run on its own."""

from __future__ import annotations

import dataclasses
import difflib

import pytest
import torch
from script_runs import SCRIPTS, run_on_its_own, run_tune, storage, tuned_stage

from autoaccel.engine import TrainingRun
from autoaccel.knobs import Config
from autoaccel.task import load_task, resolve_script

SMALL = ("--tokens", "8000")


def rnn_task(*args: str):
    return load_task(resolve_script(str(SCRIPTS / "rnn_lm.py"), [*SMALL, *args]))


def code_lines(name: str) -> list[str]:
    """The script's lines as a reader compares them: indentation and blank lines aside
    (moving a block into a function is not rewriting it)."""
    text = (SCRIPTS / name).read_text()
    return [line.strip() for line in text.splitlines() if line.strip()]


def test_the_rewrite_changes_at_most_15_lines_of_the_standalone_script() -> None:
    standalone, rewritten = code_lines("rnn_lm_standalone.py"), code_lines("rnn_lm.py")
    matcher = difflib.SequenceMatcher(None, standalone, rewritten, autojunk=False)
    changed = added = 0
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            changed += i2 - i1  # the standalone's own lines changed or dropped
            added += j2 - j1
    task_call = rewritten.index("task = autoaccel.Task(")
    declaration = rewritten.index(")", task_call) - task_call + 1
    assert changed <= 15, f"{changed} of the standalone script's lines changed"
    # Beyond the Task(...) call that names the parts, the rewrite adds a few lines only.
    assert added - declaration <= 15, f"{added} lines added, {declaration} of them the Task"


def test_the_hidden_state_is_carried_from_batch_to_batch_and_reset_each_epoch() -> None:
    task = rnn_task()
    script = task.training_step.__globals__  # the script's module: it keeps the state
    received = []

    def watched(model, batch):
        hidden = script["hidden"]
        received.append(None if hidden is None else (hidden[0].shape, hidden[0].requires_grad))
        return step(model, batch)

    step = task.training_step
    run = TrainingRun(
        dataclasses.replace(task, training_step=watched),
        Config(batch_size=8),
        torch.device("cpu"),
        0,
        2,
    )
    for batch in run.batches(run.total_steps):
        run.step(batch)
    per_epoch = run.steps_per_epoch
    assert received[0] is None and received[per_epoch] is None  # each epoch starts afresh
    carried = received[1:per_epoch] + received[per_epoch + 1 :]
    # Between them, each step gets the state the step before left (batch of 8 streams).
    assert carried and all(state is not None and state[0][1] == 8 for state in carried)


@pytest.mark.parametrize(
    ("perplexities", "lr_after"),
    [((3.0, 2.0, 1.5), 2.0), ((3.0, 2.0, 2.5), 0.5)],
    ids=["improving", "plateau"],
)
def test_a_validation_plateau_divides_the_learning_rate_by_4(perplexities, lr_after) -> None:
    task = rnn_task("--lr", "2.0")
    metrics = iter(-p for p in perplexities)
    task = dataclasses.replace(task, evaluate=lambda model: next(metrics))
    run = TrainingRun(task, Config(batch_size=16), torch.device("cpu"), 0, 3)
    for batch in run.batches(run.total_steps):
        run.step(batch)
    run.evaluate()
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(lr_after)


@pytest.mark.slow
def test_tune_measures_it_and_refuses_what_cannot_apply(tmp_path, run_cli) -> None:
    tuned = run_tune(tmp_path, "rnn_lm.py", script_args=SMALL)
    assert tuned.returncode == 0, tuned.stdout + tuned.stderr
    stage, (baseline, *_) = tuned_stage(tmp_path, "rnn_lm")
    assert stage.task.own_batches and stage.task.train_samples > 0
    assert baseline.measurement.metric_name == "negative perplexity"
    assert 1.0 < -baseline.measurement.metric < 24  # a perplexity, below the vocabulary's
    assert baseline.measurement.data_wait_share is not None
    report = run_cli("report", "rnn_lm", "--storage", storage(tmp_path)).stdout
    assert "num_workers=1: num_workers sets up the DataLoader autoaccel builds over" in report
    deploy = run_cli("bench", str(SCRIPTS / "rnn_lm.py"), "--stage", "deploy", "--", *SMALL)
    assert deploy.exit_code == 2
    assert "the deploy stage serves batches of Task.eval_data and this task has none" in (
        deploy.stderr
    )


@pytest.mark.slow
@pytest.mark.parametrize("script", ["rnn_lm.py", "rnn_lm_standalone.py"])
def test_it_still_runs_on_its_own(tmp_path, script) -> None:
    result = run_on_its_own(tmp_path, script, *SMALL, "--epochs", "2")
    assert result.returncode == 0, result.stderr
    assert "epoch 1: validation perplexity" in result.stdout
    assert "epoch 2: validation perplexity" in result.stdout
