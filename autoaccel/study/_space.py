"""Search spaces: YAML files of knob choices, validated, then narrowed to what the probed
hardware and the task can run.

The effective space is stored with the study, because Optuna refuses changed categorical
choices inside one study; a resumed study searches exactly what it searched before.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import itertools
import math
from pathlib import Path
from typing import Any

import yaml

from autoaccel import knobs
from autoaccel.errors import SearchSpaceError
from autoaccel.knobs import STAGE_KNOBS, Config, Stage, TaskFacts
from autoaccel.probe import HardwareProfile

MAX_RANGE_VALUES = 100  # in one {low, high, step} range
MAX_CONFIGURATIONS = 100_000  # in a space: its grid is built in memory
# Held effective batch, a space without accumulation_steps: the splits searched.
HELD_STEPS = [1, 2, 4]


@dataclasses.dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    step: float

    def values(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [round(self.low + i * self.step, 10) for i in range(count + 1)]


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """The values to search per knob for one stage, and the choices dropped, with why."""

    stage: Stage
    choices: dict[str, list[Any]]
    ranges: dict[str, FloatRange] = dataclasses.field(default_factory=dict)
    dropped: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    source: str = ""
    # Held effective batch: batch_size is the micro-batch and accumulation_steps follows it.
    effective_batch: int | None = None

    def config(self, base: Config, values: dict[str, Any]) -> Config:
        """``base`` with ``values``, accumulation_steps following the held effective batch."""
        if self.effective_batch is not None:
            size = values.get("batch_size", base.batch_size)
            values = {**values, "accumulation_steps": self.effective_batch // size}
        return config_for(base, values)

    def suggest(self, trial: Any, base: Config) -> Config:
        """Ask ``trial`` (an Optuna trial) for a value of every knob; others come from base."""
        values: dict[str, Any] = {}
        # A knob that excludes others comes first (they are not asked for while it is set);
        # a choice that needs a ranged knob (distill needs pruning_ratio) comes after it.
        first = [n for n in self.choices if knobs.knob(n).excludes]
        after = [n for n in self.choices if knobs.knob(n).needs in self.ranges]
        for name in [*first, *(n for n in self.choices if n not in first + after)]:
            self._suggest_choice(trial, name, base, values)
        for name, span in self.ranges.items():
            # Optuna's stepped floats carry binary noise (0.30000000000000004).
            values[name] = round(trial.suggest_float(name, span.low, span.high, step=span.step), 6)
        for name in after:
            self._suggest_choice(trial, name, base, values)
        return self.config(base, values)

    def _suggest_choice(self, trial: Any, name: str, base: Config, values: dict) -> None:
        needs = knobs.knob(name).needs
        if needs and not _is_set(needs, values.get(needs, getattr(base, needs))):
            return
        if _excluded(name, {**base.model_dump(), **values}):
            return
        values[name] = trial.suggest_categorical(name, self.choices[name])

    def params_for(self, config: Config) -> dict[str, Any]:
        """The Optuna parameters that reproduce ``config`` in this space (for enqueueing)."""
        params = {}
        for name in [*self.choices, *self.ranges]:
            needs = knobs.knob(name).needs
            if needs and not _is_set(needs, getattr(config, needs)):
                continue
            if _excluded(name, config.model_dump()):
                continue
            params[name] = getattr(config, name)
        return params

    def grid(self, base: Config) -> list[Config]:
        """Every distinct configuration in the space, worker-only knobs only with workers."""
        names = [*self.choices, *self.ranges]
        options = [self.choices.get(n) or self.ranges[n].values() for n in names]
        configs = {}
        for combination in itertools.product(*options):
            config = self.config(base, dict(zip(names, combination, strict=True)))
            configs[config.model_dump_json()] = config
        return list(configs.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "choices": self.choices,
            "ranges": {name: dataclasses.asdict(span) for name, span in self.ranges.items()},
            "dropped": self.dropped,
            "source": self.source,
            "effective_batch": self.effective_batch,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchSpace:
        return cls(
            stage=data["stage"],
            choices={name: list(values) for name, values in data["choices"].items()},
            ranges={name: FloatRange(**span) for name, span in data.get("ranges", {}).items()},
            dropped=data.get("dropped", {}),
            source=data.get("source", ""),
            effective_batch=data.get("effective_batch"),
        )


def config_for(base: Config, values: dict[str, Any]) -> Config:
    """``base`` with ``values``; a knob whose ``needs`` is unset, or that a set knob
    excludes, goes back to its default."""
    merged = {**base.model_dump(), **values}
    for knob in knobs.KNOBS:
        if knob.needs and not _is_set(knob.needs, merged[knob.needs]):
            merged[knob.name] = knob.field.default
        if _excluded(knob.name, merged):
            merged[knob.name] = knob.field.default
    return Config.model_validate(merged)


def _is_set(name: str, value: Any) -> bool:
    return value != knobs.knob(name).field.default


def _excluded(name: str, values: dict[str, Any]) -> bool:
    """Whether a knob set in ``values`` excludes knob ``name``."""
    return any(
        name in knob.excludes and _is_set(knob.name, values[knob.name]) for knob in knobs.KNOBS
    )


def default_space_path(stage: Stage) -> Path:
    """The packaged default space for ``stage`` (``search_spaces/<stage>.yaml``)."""
    return Path(str(importlib.resources.files("autoaccel.search_spaces") / f"{stage}.yaml"))


def load_space(path: Path, stage: Stage) -> SearchSpace:
    """Read and validate a search-space file for ``stage``.

    The file either lists knobs directly or holds one section per stage (``train:``,
    ``deploy:``). Errors name the file, the knob and what is allowed.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SearchSpaceError(
            f"{path}: no such search-space file. The defaults are in search_spaces/ "
            "(train.yaml, deploy.yaml); copy one to start."
        ) from None
    except IsADirectoryError:
        raise SearchSpaceError(f"{path} is a folder; pass a search-space .yaml file.") from None
    except UnicodeDecodeError:
        raise SearchSpaceError(f"{path} is not text; pass a search-space .yaml file.") from None
    except OSError as error:
        raise SearchSpaceError(f"cannot read {path}: {error.strerror}.") from None
    except yaml.YAMLError as error:
        raise SearchSpaceError(f"{path} is not valid YAML: {error}") from None
    except RecursionError:
        raise SearchSpaceError(f"{path} is nested too deeply to be a search space.") from None
    if not isinstance(data, dict) or not data:
        raise SearchSpaceError(f"{path} must map knob names to their choices.")
    if set(data) <= set(STAGE_KNOBS):
        if stage not in data:
            raise SearchSpaceError(f"{path} has no {stage}: section (it has {', '.join(data)}).")
        data = data[stage]
        if not isinstance(data, dict) or not data:
            raise SearchSpaceError(f"{path}: the {stage}: section must map knobs to choices.")
    return _validate(data, stage, str(path))


def _validate(data: dict[str, Any], stage: Stage, source: str) -> SearchSpace:
    allowed = STAGE_KNOBS[stage]
    choices: dict[str, list[Any]] = {}
    ranges: dict[str, FloatRange] = {}
    for name, value in data.items():
        where = f"{source}: {name}"
        if name not in allowed:
            other = [s for s, names in STAGE_KNOBS.items() if name in names and s != stage]
            hint = f" (it is a {other[0]}-stage knob)" if other else ""
            raise SearchSpaceError(
                f"{where}: unknown knob for the {stage} stage{hint}; allowed: {', '.join(allowed)}."
            )
        if knobs.knob(name).ranged and isinstance(value, dict):
            ranges[name] = _range(value, where)
            continue
        if not isinstance(value, list) or not value:
            raise SearchSpaceError(f"{where}: give a non-empty list of choices, got {value!r}.")
        for choice in value:
            _check_choice(name, choice, where)
        choices[name] = list(dict.fromkeys(value))
    # The grid of every configuration is built to count and to find untried ones.
    size = math.prod(
        [len(v) for v in choices.values()] + [len(r.values()) for r in ranges.values()]
    )
    if size > MAX_CONFIGURATIONS:
        raise SearchSpaceError(
            f"{source}: the {stage} space holds {size} configurations; at most "
            f"{MAX_CONFIGURATIONS} can be searched. Give fewer choices."
        )
    return SearchSpace(stage=stage, choices=choices, ranges=ranges, source=source)


def _check_choice(name: str, choice: Any, where: str) -> None:
    if name == "compile" and choice is False:
        raise SearchSpaceError(f'{where}: YAML read off as false; write "off" in quotes.')
    # The knob on its own: a choice that needs another knob is checked as if it were set.
    problem = knobs.value_problem(name, choice)
    if problem is not None:
        raise SearchSpaceError(f"{where}: {choice!r} is not allowed: {problem}.")


def _range(value: dict[str, Any], where: str) -> FloatRange:
    if set(value) - {"low", "high", "step"}:
        raise SearchSpaceError(f"{where}: a range takes only low, high and step.")
    for text in value.values():
        if isinstance(text, str) and _is_number(_float_or_none(text)):
            raise SearchSpaceError(
                f"{where}: YAML read {text!r} as text, not a number: write numbers without "
                "quotes, and exponents with a dot (1.0e-3, not 1e-3)."
            )
    if not all(_is_number(value.get(key)) for key in ("low", "high", "step")):
        raise SearchSpaceError(f"{where}: a range needs numbers low, high and step, got {value!r}.")
    span = FloatRange(float(value["low"]), float(value["high"]), float(value["step"]))
    if not (0 <= span.low <= span.high <= 0.9) or span.step <= 0:
        raise SearchSpaceError(f"{where}: need 0 <= low <= high <= 0.9 and step > 0.")
    # Each value is a configuration the grid holds: a tiny step would hold more than memory.
    if (span.high - span.low) / span.step > MAX_RANGE_VALUES - 1:
        raise SearchSpaceError(
            f"{where}: step {span.step:g} gives more than {MAX_RANGE_VALUES} values, the most "
            "a range may give; use a larger step."
        )
    return span


def _float_or_none(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _is_number(value: Any) -> bool:
    # YAML reads .nan and .inf as floats, and true as a bool, which float() would take as 1.
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fit_to(
    space: SearchSpace,
    hw: HardwareProfile,
    facts: TaskFacts,
    baseline: Config,
    *,
    hold_effective_batch: bool = False,
) -> SearchSpace:
    """The choices ``hw`` and the task can run, plus the baseline's own values; with
    ``hold_effective_batch``, only the micro-batches that make the baseline's effective
    batch with one of the space's accumulation steps.

    Every dropped choice is kept with its reason, so reports can say what was not tried.
    """
    choices: dict[str, list[Any]] = {}
    dropped: dict[str, dict[str, str]] = {}
    effective = None
    given = space.choices
    if hold_effective_batch and space.stage == "train":
        effective = knobs.accumulation.effective_batch(baseline)
        given = _held_choices(space.choices, effective, baseline, dropped)
    for name, options in given.items():
        kept = []
        for option in options:
            reason = knobs.choice_refusal(name, option, hw, facts, space.stage)
            if reason:
                dropped.setdefault(name, {})[str(option)] = reason
            else:
                kept.append(option)
        own = getattr(baseline, name)
        # None leaves the choice to PyTorch (prefetch_factor): nothing to search.
        if own not in kept and own is not None:
            kept.append(own)
        choices[name] = _sorted(kept)
    ranges = dict(space.ranges)
    for name in list(ranges):
        reason = knobs.choice_refusal(name, ranges[name].high, hw, facts, space.stage)
        if reason:
            dropped.setdefault(name, {})[f"{ranges[name].low}..{ranges[name].high}"] = reason
            del ranges[name]
    return SearchSpace(space.stage, choices, ranges, dropped, space.source, effective)


def _held_choices(
    choices: dict[str, list[Any]],
    effective: int,
    baseline: Config,
    dropped: dict[str, dict[str, str]],
) -> dict[str, list[Any]]:
    """The choices with ``batch_size`` the micro-batches ``effective / accumulation_steps``
    for the space's accumulation steps (or ``HELD_STEPS``) that divide it;
    accumulation_steps is not searched on its own, it follows the micro-batch."""
    held = {name: options for name, options in choices.items() if name != "accumulation_steps"}
    steps = [*choices.get("accumulation_steps", HELD_STEPS), baseline.accumulation_steps]
    sizes = []
    for step in dict.fromkeys(steps):
        if effective % step:
            dropped.setdefault("accumulation_steps", {})[str(step)] = (
                f"accumulation_steps={step} does not divide the held effective batch "
                f"{effective} (--hold-effective-batch)"
            )
        else:
            sizes.append(effective // step)
    for size in choices.get("batch_size", []):
        if size not in sizes:
            dropped.setdefault("batch_size", {})[str(size)] = (
                f"the effective batch is held at {effective} (--hold-effective-batch): "
                "batch_size is searched as it divided by the accumulation_steps choices"
            )
    held["batch_size"] = sizes
    return held


def _sorted(values: list[Any]) -> list[Any]:
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return sorted(values)
    if all(isinstance(v, bool) for v in values):
        return sorted(values)
    return values
