"""How to use a recommendation: the commands and the code, per stage."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from autoaccel import knobs
from autoaccel.knobs import Config
from autoaccel.recommend import StageRecommendation
from autoaccel.report._model import HowToApply
from autoaccel.study import StudyFolder

_DEFAULTS = Config()


def python_literal(value: Any) -> str:
    """``value`` as Python source: strings in double quotes, True, False and None."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        items = ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    return repr(value)


def how_to_apply(
    rec: StageRecommendation,
    study: str,
    script: str,
    baseline: dict[str, Any],
    studies_dir: Path,
    task_name: str | None = None,
    script_args: Sequence[str] = (),
) -> HowToApply:
    config = rec.config.for_stage(rec.stage)
    changed = {k: v for k, v in config.items() if baseline.get(k) != v}
    folder = StudyFolder(study, studies_dir)
    path = folder.recommendation if folder.is_folder_name else None
    notes = []
    if path is None:
        notes.append(
            f"the study name {study!r} names no folder, so no recommendation file is kept for "
            "it: the command below passes the configuration itself"
        )
    elif not path.exists():
        notes.append(
            f"{path} is not here (the study was tuned in another folder or machine): copy it "
            "from there, or run autoaccel tune again with the same --study and --storage, "
            "which rewrites it"
        )
    # The commands give the script the arguments its trials had, after -- for autoaccel's.
    given = f" {shlex.join(script_args)}" if script_args else ""
    passed = f" --{given}" if script_args else ""
    if rec.stage == "train":
        commands, code = _train(config, study, script, path, task_name, given, passed)
    else:
        commands, code = _deploy(rec.config, changed, script, path, passed)
    return HowToApply(
        config=config,
        changed=changed,
        recommendation_file=None if path is None else str(path),
        recommendation_file_exists=path is not None and path.exists(),
        commands=commands,
        code=code,
        notes=notes,
    )


def _config_argument(config: dict[str, Any], path: Path | None) -> str:
    """What ``autoaccel bench --config`` reads: the saved file, else the values themselves."""
    return shlex.quote(json.dumps(config) if path is None else str(path))


def _train(
    config: dict[str, Any],
    study: str,
    script: str,
    path: Path | None,
    task_name: str | None,
    given: str,
    passed: str,
) -> tuple[list[tuple[str, str]], str]:
    # autoaccel.train finds the study by the script's name unless told otherwise.
    default_study = Path(script).stem
    train_call = "autoaccel.train(task)"
    if path is not None and study != default_study and study != task_name:
        train_call = f"autoaccel.train(task, study={python_literal(study)})"
    commands = []
    if path is not None:
        commands.append(
            (
                f"python {shlex.quote(script)}{given}",
                f"trains for real: {train_call} in the script reads {path}",
            )
        )
    commands.append(
        (
            f"autoaccel bench {shlex.quote(script)} --config {_config_argument(config, path)}"
            f"{passed}",
            "measures the recommended training setup once more",
        )
    )
    # Knobs left at PyTorch's defaults need not be written out; batch_size always is.
    written = {k: v for k, v in config.items() if k == "batch_size" or getattr(_DEFAULTS, k) != v}
    if len(written) > 2:
        items = "".join(
            f"        {python_literal(k)}: {python_literal(v)},\n" for k, v in written.items()
        )
        baseline = "{\n" + items + "    }"
    else:
        baseline = python_literal(written)
    code = (
        "# Or make it the task's own baseline, so every run uses it without the file:\n"
        "task = autoaccel.Task(\n"
        "    ...,  # model, data, loss, optimizer, metric as before\n"
        f"    baseline={baseline},\n"
        ")\n"
        f"{train_call}"
    )
    return commands, code


def _deploy(
    config: Config, changed: dict[str, Any], script: str, path: Path | None, passed: str
) -> tuple[list[tuple[str, str]], str]:
    values = _config_argument(config.for_stage("deploy"), path)
    commands = [
        (
            f"autoaccel bench {shlex.quote(script)} --stage deploy --config {values}{passed}",
            "trains the model, then measures the recommended inference setup on it",
        )
    ]
    # The deploy measurement's own steps, in its order.
    steps = knobs.DEPLOY
    lines = ["from autoaccel import knobs", "", "# model: trained, on the CPU"]
    for step in (*steps.module, *steps.serve):
        lines += step.code(config)
    lines += [f"# serve batches of {config.batch_size}", "with torch.inference_mode():"]
    for change in steps.inputs:
        lines += [f"    {line}" for line in change.code(config)]
    indent = "    "
    for line in steps.call.code(config):
        lines.append(indent + line)
        indent += "    "
    lines.append(f"{indent}outputs = model(inputs)")
    if not changed:
        lines.insert(0, "# the baseline won: serve the model as you do today")
    return commands, "\n".join(lines)
