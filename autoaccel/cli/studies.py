"""``autoaccel studies``: list, show and delete stored studies."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.core import TyperGroup

from autoaccel import _format as fmt
from autoaccel import defaults
from autoaccel.cli._options import JsonOption, StorageOption
from autoaccel.cli._render import console, print_json, report_hint, rows_table

app = typer.Typer(
    help="List, show and delete stored studies (without a command: list).",
    rich_markup_mode=None,
)

NameArgument = Annotated[str, typer.Argument(help="Study name, as autoaccel studies lists it.")]


@app.callback(invoke_without_command=True)
def _studies(
    ctx: typer.Context,
    storage: Annotated[
        str | None,
        typer.Option(
            help="Optuna storage URL for every command below, so `autoaccel studies "
            "--storage URL` lists that storage (a command's own --storage wins).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List, show and delete stored studies (without a command: list)."""
    if storage is not None:
        # Click's defaults for the subcommands: an explicit option there still wins.
        ctx.default_map = {name: {"storage": storage} for name in ("list", "show", "delete")}
    if ctx.invoked_subcommand is None:
        # Parsed like `autoaccel studies list`, so AUTOACCEL_STORAGE still applies.
        group = ctx.command
        assert isinstance(group, TyperGroup)  # the app's callback: typer made it a group
        command = group.get_command(ctx, "list")
        assert command is not None
        args = ["--json"] if json_output else []
        with command.make_context("list", args, parent=ctx) as list_ctx:
            command.invoke(list_ctx)


@app.command("list")
def list_command(
    storage: StorageOption = defaults.STORAGE, json_output: JsonOption = False
) -> None:
    """Each study: finished trials per stage, best speedup, hardware, last trial."""
    from autoaccel.study import list_studies

    studies = list_studies(storage)
    if json_output:
        print_json({"studies": [s.model_dump(mode="json") for s in studies]})
        return
    if not studies:
        console.print("No studies in this storage yet: autoaccel tune SCRIPT starts one.")
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for column in ("study", "finished trials", "best speedup", "hardware", "last trial"):
        # Numbers never break across lines; the hardware's name wraps instead.
        table.add_column(
            column,
            justify="right" if column == "best speedup" else "left",
            no_wrap=column != "hardware",
        )
    for study in studies:
        if study.error:
            table.add_row(fmt.plain(study.name), "unreadable", "-", fmt.plain(study.error), "-")
            continue
        trials = ", ".join(f"{s.stage} {s.finished}" for s in study.stages.values())
        last = study.last_update.strftime("%Y-%m-%d %H:%M") if study.last_update else "-"
        best = study.best
        claim = fmt.claim(best.speedup, best.speedup_ci, best.confirmed) if best else "-"
        table.add_row(
            fmt.plain(study.name), trials, fmt.plain(claim), fmt.plain(study.hardware or "-"), last
        )
    console.print(table)


@app.command("show")
def show_command(
    name: NameArgument, storage: StorageOption = defaults.STORAGE, json_output: JsonOption = False
) -> None:
    """A short summary of one study: stages, trials by outcome, the recommendation."""
    from autoaccel.study import show_study

    study = show_study(storage, name)
    if json_output:
        print_json(study.model_dump(mode="json"))
        return
    last = study.last_update.strftime("%Y-%m-%d %H:%M") if study.last_update else "-"
    console.print(fmt.plain(study.name, "bold").append(f": {study.script}"))
    console.print(rows_table([("hardware", study.hardware or "-"), ("last trial", last)]))
    for stage in study.stages.values():
        outcomes = ", ".join(f"{n} {o}" for o, n in stage.outcomes.items()) or "none"
        rows = [("trials", f"{stage.trials} ({outcomes}); {stage.finished} finished")]
        if stage.recommended is None:
            rows.append(("recommendation", "none yet: the baseline has not finished"))
        elif stage.recommended_trial == stage.baseline_trial:
            rows.append(("recommendation", "the baseline: no trial beat it"))
        else:
            changed = ", ".join(f"{k}={v}" for k, v in (stage.changed or {}).items())
            rows.append(
                (
                    "recommendation",
                    f"{fmt.claim(stage.speedup, stage.speedup_ci, stage.confirmed)} with trial "
                    f"{stage.recommended_trial}: {changed}",
                )
            )
        console.print()
        console.print(rows_table(rows, title=f"{stage.stage} ({stage.optuna_study})"))
    console.print()
    console.print(report_hint(study.name, storage))


@app.command("delete")
def delete_command(
    name: NameArgument,
    storage: StorageOption = defaults.STORAGE,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete without asking.")] = False,
) -> None:
    """Delete a study's trials from the storage, and the files autoaccel wrote for it."""
    from autoaccel.study import delete_study, plan_deletion

    plan = plan_deletion(storage, name)
    console.print(fmt.plain(f"Deleting study {plan.study} removes:"))
    for optuna_study in plan.optuna_studies:
        console.print(fmt.plain(f"  Optuna study {optuna_study}"))
    console.print(f"  ({plan.trials} trials in all)")
    for path in plan.files:
        console.print(fmt.plain(f"  {path}"))
    if not yes and not typer.confirm("Delete them?", default=False):
        console.print("Nothing was deleted.")
        raise typer.Exit(1)
    for removed in delete_study(plan):
        console.print(fmt.plain(f"deleted {removed}"))
