"""One configuration: a value for every knob, validated, plain data (no torch)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import ConfigDict, TypeAdapter, ValidationError, create_model, model_validator

from autoaccel.errors import ConfigError
from autoaccel.knobs._knob import Stage
from autoaccel.knobs._registry import KNOBS

# Which knobs mean something in each stage, in the registry's order.
STAGE_KNOBS: dict[Stage, tuple[str, ...]] = {
    stage: tuple(knob.name for knob in KNOBS if stage in knob.stages)
    for stage in ("train", "deploy")
}
TRAIN_KNOBS = STAGE_KNOBS["train"]
DEPLOY_KNOBS = STAGE_KNOBS["deploy"]

# One field per knob, declared by the knob itself: adding a knob adds its field here.
_KnobFields = create_model(
    "_KnobFields", **{knob.name: (knob.values, knob.field) for knob in KNOBS}
)


class Config(_KnobFields):
    """A value for every knob. Defaults are PyTorch's own defaults: nothing accelerated.

    The fields are the knobs of ``knobs.KNOBS`` (``Config.model_fields`` lists them), each
    typed and bounded by its knob's ``values`` and ``field``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="after")
    def _needs_are_met(self) -> Config:
        # DataLoader itself refuses worker options without workers; say so before a trial
        # is spent.
        for knob in KNOBS:
            if knob.needs is None or getattr(self, knob.name) == knob.field.default:
                continue
            required = Config.model_fields[knob.needs].default
            if getattr(self, knob.needs) == required:
                raise ValueError(f"{knob.name} needs {knob.needs} > {required}")
        for knob in KNOBS:
            value = getattr(self, knob.name)
            if value == knob.field.default:
                continue
            for other in knob.excludes:
                if getattr(self, other) != Config.model_fields[other].default:
                    raise ValueError(
                        f"{other}={getattr(self, other)} does not apply with "
                        f"{knob.name}={value}: {knob.excludes_why}"
                    )
        return self

    def replace(self, **changes: object) -> Config:
        """A copy with some knobs changed, validated again."""
        return Config.model_validate({**self.model_dump(), **changes})

    def for_stage(self, stage: Stage) -> dict[str, object]:
        """The knobs that matter in ``stage``, for display and storage."""
        return {name: getattr(self, name) for name in STAGE_KNOBS[stage]}


def read_json_argument(text_or_path: str, flag: str = "--config") -> tuple[dict[str, Any], str]:
    """The JSON object given inline or as a file path, and where it came from (for errors)."""
    text, source = text_or_path, flag
    if not text_or_path.lstrip().startswith("{"):
        text, source = _read_json_file(text_or_path, flag), text_or_path
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{source} is not valid JSON: {error}.") from None
    except RecursionError:
        raise ConfigError(f"{source} is nested too deeply to be a configuration.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must hold a JSON object of knob names to values.")
    return data, source


def _read_json_file(path: str, flag: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"{flag} {path} is a folder; pass a .json file.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{flag} {path} is not text; pass a .json file.") from None
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in it
        raise ConfigError(
            f"{flag} {path!r} is neither a JSON object nor an existing file. "
            'Pass JSON such as \'{"batch_size": 128, "precision": "bf16"}\' or a .json file.'
        ) from None
    except OSError as error:
        raise ConfigError(f"{flag}: cannot read {path}: {error.strerror}.") from None


def check_values(data: dict[Any, object], *, source: str) -> None:
    """Each knob in ``data`` exists and its value fits the knob on its own; whether the
    knobs go together is left to the whole configuration. Needs no task, so a typo fails
    before a script is loaded."""
    problems = []
    for name, value in data.items():
        problem = value_problem(name, value)
        if problem is not None:
            got = "" if name not in Config.model_fields else f" (got {value!r})"
            problems.append(f"{name}: {problem}{got}")
    if problems:
        raise ConfigError(f"{source}: {'; '.join(problems)}")


def value_problem(name: Any, value: object) -> str | None:
    """Why ``value`` cannot be knob ``name``'s value, or None.

    Types are strict: YAML and JSON give true and "64" as readily as 64, and neither is a
    batch size; an int is a float, as JSON writes 0 for 0.0.
    """
    if name not in Config.model_fields:
        return f"unknown knob; known knobs: {', '.join(Config.model_fields)}"
    try:
        _value_type(name).validate_python(value, strict=True)
    except ValidationError as error:
        return "; ".join(dict.fromkeys(item["msg"] for item in error.errors()))
    return None


@functools.cache
def _value_type(name: str) -> TypeAdapter[Any]:
    field = Config.model_fields[name]
    return TypeAdapter(Annotated[field.annotation, field])


def config_from_dict(data: dict[str, object], *, source: str, base: Config | None = None) -> Config:
    """Validate ``data`` as a configuration; errors name the knob and what is allowed."""
    check_values(data, source=source)
    merged = {**(base or Config()).model_dump(), **data}
    try:
        return Config.model_validate(merged)
    except ValidationError as error:
        raise ConfigError(f"{source}: {_describe(error)}") from None


def _describe(error: ValidationError) -> str:
    """One readable line per problem: ``knob: what is wrong (got value)``."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "config"
        message = item["msg"]
        if "input" in item and item["type"] != "value_error":
            message = f"{message} (got {item['input']!r})"
        lines.append(f"{where}: {message}")
    return "; ".join(lines)
