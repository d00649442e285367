"""One configuration: a value for every knob, validated, plain data (no torch)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from autoaccel.errors import ConfigError

Precision = Literal["fp32", "tf32", "bf16", "fp16"]
CompileMode = Literal["off", "default", "max-autotune-no-cudagraphs", "reduce-overhead"]
Quantization = Literal[
    "none",
    "int8_dynamic_torch_ao",
    "int8_dynamic_torchao",
    "int8_weight_only_torchao",
    "fp8_torchao",
]
Stage = Literal["train", "deploy"]

# Which knobs mean something in each stage. Deploy feeds the model batches that are already
# on the device (a served model receives its inputs), so loader knobs are train-only.
TRAIN_KNOBS = (
    "batch_size",
    "precision",
    "num_workers",
    "pin_memory",
    "persistent_workers",
    "prefetch_factor",
    "channels_last",
    "compile",
)
DEPLOY_KNOBS = (
    "batch_size",
    "precision",
    "channels_last",
    "compile",
    "pruning_ratio",
    "quantization",
)
STAGE_KNOBS: dict[str, tuple[str, ...]] = {"train": TRAIN_KNOBS, "deploy": DEPLOY_KNOBS}


class Config(BaseModel):
    """A value for every knob. Defaults are PyTorch's own defaults: nothing accelerated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(default=32, ge=1, le=1 << 20)
    precision: Precision = "fp32"
    num_workers: int = Field(default=0, ge=0, le=256)
    pin_memory: bool = False
    persistent_workers: bool = False
    prefetch_factor: int | None = Field(default=None, ge=1, le=64)
    channels_last: bool = False
    compile: CompileMode = "off"
    pruning_ratio: float = Field(default=0.0, ge=0.0, le=0.9)
    quantization: Quantization = "none"

    @model_validator(mode="after")
    def _worker_options_need_workers(self) -> Config:
        # DataLoader itself refuses these without workers; say so before a trial is spent.
        if self.num_workers == 0 and self.persistent_workers:
            raise ValueError("persistent_workers needs num_workers > 0")
        if self.num_workers == 0 and self.prefetch_factor is not None:
            raise ValueError("prefetch_factor needs num_workers > 0")
        return self

    def replace(self, **changes: object) -> Config:
        """A copy with some knobs changed, validated again."""
        return Config.model_validate({**self.model_dump(), **changes})

    def for_stage(self, stage: str) -> dict[str, object]:
        """The knobs that matter in ``stage``, for display and storage."""
        return {name: getattr(self, name) for name in STAGE_KNOBS[stage]}


def read_json_argument(text_or_path: str, flag: str = "--config") -> tuple[dict[str, Any], str]:
    """The JSON object given inline or as a file path, and where it came from (for errors)."""
    text, source = text_or_path, flag
    if not text_or_path.lstrip().startswith("{"):
        path = Path(text_or_path)
        if not path.is_file():
            raise ConfigError(
                f"{flag} {text_or_path!r} is neither a JSON object nor an existing file. "
                'Pass JSON such as \'{"batch_size": 128, "precision": "bf16"}\' or a .json file.'
            )
        text, source = path.read_text(), str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{source} is not valid JSON: {error}.") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source} must hold a JSON object of knob names to values.")
    return data, source


def config_from_dict(data: dict[str, object], *, source: str, base: Config | None = None) -> Config:
    """Validate ``data`` as a configuration; errors name the knob and what is allowed."""
    merged = {**(base or Config()).model_dump(), **data}
    try:
        return Config.model_validate(merged)
    except ValidationError as error:
        raise ConfigError(f"{source}: {describe_validation_error(error)}") from None


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per problem: ``knob: what is wrong (got value)``."""
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "config"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = f"unknown knob; known knobs: {', '.join(Config.model_fields)}"
        elif "input" in item and item["type"] != "value_error":
            message = f"{message} (got {item['input']!r})"
        lines.append(f"{where}: {message}")
    return "; ".join(lines)
