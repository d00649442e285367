"""``autoaccel bench``: measure one configuration, print it, store nothing."""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from autoaccel import _format as fmt
from autoaccel import defaults
from autoaccel.cli._options import JsonOption, ScriptArgs
from autoaccel.cli._render import config_text, console, print_json, result_rows, rows_table

if TYPE_CHECKING:
    from autoaccel.knobs import Stage


def bench_command(
    script: Annotated[
        str,
        typer.Argument(
            help="Training script holding an autoaccel.Task (train.py or train.py:name)."
        ),
    ],
    script_args: ScriptArgs = None,
    config: Annotated[
        str | None,
        typer.Option(
            help="Knob values as JSON or a .json file (a recommendation.json "
            "works too); unset knobs keep the task's baseline."
        ),
    ] = None,
    stage: Annotated[
        Literal["train", "deploy"], typer.Option(help="train, or deploy (inference).")
    ] = "train",
    timeout: Annotated[
        float, typer.Option(help="Seconds before the trial is stopped.")
    ] = defaults.TRIAL_TIMEOUT_S,
    json_output: JsonOption = False,
) -> None:
    """Measure one configuration of SCRIPT in a fresh process; nothing is stored."""
    from autoaccel.bench import bench

    outcome = bench(
        script,
        config=config,
        stage=_stage(stage),
        timeout_s=_timeout(timeout),
        script_args=tuple(script_args or ()),
    )
    if json_output:
        print_json(
            {
                "script": outcome.script,
                "script_args": list(outcome.facts.script_args),
                "stage": outcome.stage,
                "config": outcome.config.for_stage(outcome.stage),
                "hardware": outcome.hardware.summary(),
                "result": outcome.result.model_dump() if outcome.result else None,
                "trained": outcome.trained.model_dump() if outcome.trained else None,
            }
        )
    else:
        console.print(fmt.plain(outcome.script, "bold").append(f" on {outcome.hardware.summary()}"))
        if outcome.facts.script_args:
            console.print(fmt.plain(f"arguments: {shlex.join(outcome.facts.script_args)}"))
        config = config_text(outcome.config.for_stage(outcome.stage))
        console.print(fmt.plain(f"{outcome.stage}: {config}"))
        if outcome.result is None:
            assert outcome.trained is not None
            console.print("Training the weights to deploy failed:")
            console.print(rows_table(result_rows(outcome.trained)))
        else:
            console.print(rows_table(result_rows(outcome.result)))
        failed = outcome.result or outcome.trained
        if failed is not None and failed.traceback and not failed.ok:
            console.print(fmt.plain(failed.traceback))
    if outcome.outcome != "ok":
        raise typer.Exit(1)


def _stage(value: str) -> Stage:
    from autoaccel.errors import ConfigError
    from autoaccel.knobs import STAGE_KNOBS

    for stage in STAGE_KNOBS:
        if stage == value:
            return stage
    raise ConfigError(f"--stage must be train or deploy, got {value!r}.")


def _timeout(seconds: float) -> float:
    import math

    from autoaccel.errors import ConfigError

    # nan and inf would leave the trial without a limit.
    if not (math.isfinite(seconds) and seconds > 0):
        raise ConfigError(f"--timeout must be a positive number of seconds, got {seconds}.")
    return seconds
