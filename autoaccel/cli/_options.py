"""Options shared by several commands, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

ScriptArgs = Annotated[
    list[str] | None,
    typer.Argument(
        help="The script's own arguments, after --: autoaccel tune train.py -- --lr 0.1",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
StorageOption = Annotated[
    str,
    typer.Option(
        "--storage",
        help="Optuna storage URL (sqlite:///file.db, postgresql://user@host/db).",
        envvar="AUTOACCEL_STORAGE",
    ),
]
