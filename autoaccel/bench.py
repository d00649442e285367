"""``autoaccel bench``: measure one configuration in a trial process; nothing is stored."""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from pathlib import Path

from autoaccel import defaults, knobs
from autoaccel.errors import ConfigError
from autoaccel.knobs import Config, Stage, TaskFacts
from autoaccel.probe import HardwareProfile
from autoaccel.recommend import stage_config_data
from autoaccel.runner import Outcome, TrialResult, TrialSpec, inspect_script, run_trial
from autoaccel.task import resolve_script


@dataclasses.dataclass(frozen=True)
class BenchResult:
    script: str
    stage: Stage
    config: Config
    facts: TaskFacts
    hardware: HardwareProfile
    result: TrialResult | None
    trained: TrialResult | None = None  # deploy: the trial that trained the weights first

    @property
    def outcome(self) -> Outcome:
        """How the bench ended: the measured trial's outcome, or the training trial's."""
        if self.result is not None:
            return self.result.outcome
        assert self.trained is not None
        return self.trained.outcome


def bench(
    script: str,
    *,
    config: str | None = None,
    stage: Stage = "train",
    timeout_s: float = defaults.TRIAL_TIMEOUT_S,
    hardware: HardwareProfile | None = None,
    script_args: tuple[str, ...] = (),
) -> BenchResult:
    """Measure ``script``'s Task under ``config`` (JSON, a JSON file or a recommendation file;
    unset knobs keep the task's baseline) in ``stage``; the script gets ``script_args`` as
    its command line.

    The deploy stage first trains the model with the baseline in its own trial process, then
    measures inference on those weights.
    """
    target = resolve_script(script, script_args)
    # Read the configuration before loading the task, so a typo fails at once.
    data, source = knobs.read_json_argument(config) if config is not None else ({}, "")
    data = stage_config_data(data, stage, source)
    knobs.check_values(data, source=source)
    if hardware is None:
        from autoaccel.probe import probe

        hardware = probe()
    facts = inspect_script(target)
    refused = facts.stage_refusal(stage)
    if refused:
        raise ConfigError(f"{target.spec}: {refused}.")
    chosen = knobs.config_from_dict(data, source=source, base=facts.baseline)
    reasons = knobs.refusals(chosen, hardware, facts, stage)
    if reasons:
        raise ConfigError(
            f"this configuration cannot run on {hardware.summary()}: " + "; ".join(reasons) + "."
        )
    # Every trial process of a bench runs the same script, arguments and machine.
    spec = functools.partial(
        TrialSpec, script=target.spec, script_args=target.args, hardware=hardware
    )
    if stage == "train":
        result = run_trial(spec(action="train", config=chosen), timeout_s)
        return BenchResult(target.spec, stage, chosen, facts, hardware, result)
    with tempfile.TemporaryDirectory(prefix="autoaccel-bench-") as folder:
        weights = str(Path(folder, "weights.pt"))
        train_spec = spec(action="train", config=facts.baseline, weights_out=weights)
        trained = run_trial(train_spec, timeout_s)
        if not trained.ok:
            return BenchResult(target.spec, stage, chosen, facts, hardware, None, trained)
        deploy_spec = spec(action="deploy", config=chosen, weights_in=weights)
        result = run_trial(deploy_spec, timeout_s)
    return BenchResult(target.spec, stage, chosen, facts, hardware, result, trained)
