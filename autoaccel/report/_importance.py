"""Which knobs mattered for throughput, by Optuna's parameter importance: an estimate that
needs enough trials, so small studies say so instead of showing noise."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from autoaccel.report._model import Importance

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

MIN_TRIALS = 6
# PED-ANOVA compares the best trials with all of them; keep at least two among the best.
MIN_TOP_TRIALS = 2


def param_importance(trials: Sequence[FrozenTrial], searched: dict[str, list[Any]]) -> Importance:
    """Importance of each knob for throughput over ``trials`` (finished, feasible Optuna
    trials), or an :class:`Importance` whose ``note`` says why there is none."""
    count = len(trials)
    if count < MIN_TRIALS:
        return Importance(
            trials=count,
            note=f"too few trials: {count} finished feasible, importance needs {MIN_TRIALS}",
        )
    # A knob that kept one value among these trials explains nothing.
    params = [
        name
        for name in searched
        if len({repr(t.params[name]) for t in trials if name in t.params}) > 1
    ]
    if not params:
        return Importance(trials=count, note="no knob took more than one value in these trials")
    import optuna
    from optuna.importance import PedAnovaImportanceEvaluator, get_param_importances

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "maximize"])
    study.add_trials(trials)
    evaluator = PedAnovaImportanceEvaluator(target_quantile=max(0.1, MIN_TOP_TRIALS / count))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = get_param_importances(
                study,
                evaluator=evaluator,
                params=params,
                # PED-ANOVA ranks lower targets as better.
                target=lambda t: -t.values[0],
            )
    except (ValueError, RuntimeError, ZeroDivisionError, ArithmeticError) as error:
        return Importance(trials=count, note=f"importance could not be estimated: {error}")
    if not any(values.values()):
        return Importance(
            trials=count, note="no knob stands out: the fastest trials look like the rest"
        )
    return Importance(values={k: float(v) for k, v in values.items()}, trials=count)
