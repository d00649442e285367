"""``autoaccel tune``: search, then print and save the recommendation."""

from __future__ import annotations

import contextlib
import shlex
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Literal

import typer

from autoaccel import _format as fmt
from autoaccel import defaults
from autoaccel.cli._options import JsonOption, ScriptArgs, StorageOption
from autoaccel.cli._progress import LiveProgress, PlainProgress
from autoaccel.cli._render import (
    console,
    err_console,
    print_json,
    report_hint,
    rows_table,
)

KEPT = "finished trials are kept; run the same command to resume."


def tune_command(
    script: Annotated[
        str,
        typer.Argument(
            help="Training script holding an autoaccel.Task (train.py or train.py:name)."
        ),
    ],
    script_args: ScriptArgs = None,
    study: Annotated[
        str | None,
        typer.Option(
            help="Study name [default: the script's file name]. The same name again resumes."
        ),
    ] = None,
    storage: StorageOption = defaults.STORAGE,
    space: Annotated[
        Path | None, typer.Option(help="Search-space YAML [default: search_spaces/<stage>.yaml].")
    ] = None,
    stage: Annotated[
        Literal["train", "deploy", "all"],
        typer.Option(
            help="train, deploy (inference), or all: train, then deploy the trained model."
        ),
    ] = "all",
    trials: Annotated[
        int,
        typer.Option(
            help="Finished trials each stage should hold; a resumed study counts its own."
        ),
    ] = defaults.TRIALS,
    timeout: Annotated[
        float | None, typer.Option(help="Stop starting trials after this many seconds in total.")
    ] = None,
    max_metric_drop: Annotated[
        float | None,
        typer.Option(
            help=f"Largest allowed fall of the metric below the baseline's, in the metric's own "
            f"units [default: the study's, else {defaults.MAX_METRIC_DROP}, one point of accuracy]."
        ),
    ] = None,
    trial_timeout: Annotated[
        float, typer.Option(help="Seconds before one trial is stopped (it counts as a timeout).")
    ] = defaults.TRIAL_TIMEOUT_S,
    allow_other_hardware: Annotated[
        bool, typer.Option(help="Continue a study measured on a different machine.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed for the sampler and every trial.")] = 0,
    confirm: Annotated[
        int,
        typer.Option(
            help="After the search, measure this many of the best candidates again against "
            "the baseline in interleaved rounds, and train the winner again with a second "
            "seed; 0 skips it (the speedup then comes from one measurement each)."
        ),
    ] = defaults.CONFIRM_CANDIDATES,
    run_epochs: Annotated[
        float | None,
        typer.Option(
            help="How long your real training runs, in epochs [default: Task.run_epochs]. "
            "Confirmed candidates are then ranked by the time to train that long, "
            "compilation and other one-off costs included."
        ),
    ] = None,
    max_rounds: Annotated[
        int,
        typer.Option(help="Paired rounds at most, when the candidates stay hard to tell apart."),
    ] = defaults.CONFIRM_MAX_ROUNDS,
    jobs: Annotated[
        int | None,
        typer.Option(
            help="Trials measured at once, each on a GPU of its own, or on a CPU on cores of "
            "its own [default: one per GPU; 1 on a CPU]."
        ),
    ] = None,
    heartbeat: Annotated[
        int,
        typer.Option(
            help="Seconds between the heartbeats of each running trial in the storage; a "
            "trial silent for twice as long is taken over by another tuner of the study."
        ),
    ] = defaults.HEARTBEAT_S,
    objective: Annotated[
        str | None,
        typer.Option(
            help="Deploy stage: rank setups by throughput, or by latency (the p99 of one "
            "request of --latency-batch samples) [default: the study's, else throughput]."
        ),
    ] = None,
    latency_batch: Annotated[
        int | None,
        typer.Option(
            help="Samples in one request, for --objective latency and --max-latency-ms "
            "[default: the study's, else 1]."
        ),
    ] = None,
    max_latency_ms: Annotated[
        float | None,
        typer.Option(
            help="Deploy stage: recommend only setups whose p99 request latency is under this."
        ),
    ] = None,
    max_memory: Annotated[
        str | None,
        typer.Option(
            help="Deploy stage: recommend only setups whose peak memory (GPU, else the "
            "process) is under this size, e.g. 2GiB or 512MiB."
        ),
    ] = None,
    hold_effective_batch: Annotated[
        bool,
        typer.Option(
            help="Keep the baseline's effective batch (batch_size * accumulation_steps): "
            "search the micro-batch and the accumulation steps together, so every trial "
            "takes the baseline's optimizer steps [default: Task.hold_effective_batch]. "
            "Kept with the study."
        ),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Search for the fastest setup of SCRIPT whose metric holds; save the recommendation."""
    from autoaccel.study import TuneOptions, tune

    options = TuneOptions(
        study=study,
        storage=storage,
        space=space,
        stage=stage,
        trials=trials,
        timeout_s=timeout,
        max_metric_drop=max_metric_drop,
        trial_timeout_s=trial_timeout,
        allow_other_hardware=allow_other_hardware,
        seed=seed,
        confirm=confirm,
        run_epochs=run_epochs,
        max_rounds=max_rounds,
        script_args=tuple(script_args or ()),
        jobs=jobs,
        heartbeat_s=heartbeat,
        objective=objective,
        latency_batch=latency_batch,
        max_latency_ms=max_latency_ms,
        max_memory=max_memory,
        hold_effective_batch=hold_effective_batch,
    )
    out = err_console if json_output else console
    live = out.is_terminal and not json_output
    progress = LiveProgress(out) if live else PlainProgress(out)
    with _stop_signals() as stops:
        try:
            with progress if isinstance(progress, LiveProgress) else contextlib.nullcontext():
                result = tune(script, options, progress=progress)
        except KeyboardInterrupt:  # before the search began, or a second stop while saving
            err_console.print(f"Interrupted: {KEPT}", markup=False)
            raise typer.Exit(_stopped_exit_code(stops)) from None
    if json_output:
        print_json(
            {
                "study": result.study,
                "interrupted": result.interrupted,
                "recommendation_file": str(result.path),
                "recommendation": result.recommendation.model_dump(mode="json"),
            }
        )
    else:
        _print_recommendation(result, storage, [script, *(script_args or ())])
    if result.interrupted:
        raise typer.Exit(_stopped_exit_code(stops))


@contextlib.contextmanager
def _stop_signals() -> Iterator[list[int]]:
    """SIGTERM, which schedulers (Slurm, Kubernetes, systemd) stop a job with, stops the
    tuner as Ctrl-C does: as a KeyboardInterrupt, on which the trial process is killed and
    the study keeps what it has. Yields the signals that came, for the exit code."""
    stops: list[int] = []

    def stop(signum: int, frame: object) -> None:
        stops.append(signum)
        raise KeyboardInterrupt

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stops
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stopped_exit_code(stops: list[int]) -> int:
    """128 plus the signal, as a shell reports a process the signal ended: 130 for Ctrl-C."""
    return 128 + (stops[0] if stops else signal.SIGINT)


def _bench_command(command_line: list[str], path: Path) -> str:
    """``autoaccel bench SCRIPT --config PATH [-- ARGS]``, ready to paste."""
    script, *args = command_line
    command = f"autoaccel bench {shlex.quote(script)} --config {shlex.quote(str(path))}"
    return f"{command} -- {shlex.join(args)}" if args else command


def _print_recommendation(result, storage: str, command_line: list[str]) -> None:
    from autoaccel.report import config_line, summary_rows

    rec = result.recommendation
    if result.interrupted:
        console.print(f"[bold]Interrupted[/]: {KEPT}")
    if not rec.stages:
        console.print("No recommendation yet: the baseline has not finished.")
    for stage, choice in rec.stages.items():
        console.print()
        console.print(
            fmt.plain(f"Recommended {stage} configuration", "bold").append(f" ({rec.hardware})")
        )
        console.print(fmt.plain(f"  {config_line(choice)}"))
        console.print(rows_table(summary_rows(choice)))
    console.print()
    console.print(
        fmt.plain(
            f"Saved to {result.path}; autoaccel.train(task) and "
            f"{_bench_command(command_line, result.path)} pick it up."
        )
    )
    console.print(report_hint(result.study, storage))
