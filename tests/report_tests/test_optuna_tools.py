"""Optuna's own tools (load_study, plots, optuna-dashboard's readers) open an autoaccel
study: failed trials are COMPLETE with values [0, -inf] and constraints, interrupted ones
FAIL."""

from __future__ import annotations

import math
import warnings

import optuna
import pytest
from optuna.trial import TrialState


@pytest.fixture(scope="module")
def train_study(fake_study):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name="tiny:train", storage=fake_study.storage)


def test_load_study_sees_values_constraints_and_states(train_study) -> None:
    assert train_study.metric_names == ["throughput", "accuracy"]
    states = {t.state for t in train_study.trials}
    assert states == {TrialState.COMPLETE, TrialState.FAIL}  # FAIL: the Ctrl-C'd trial
    failed = [
        t for t in train_study.trials if t.user_attrs.get("outcome") not in ("ok", "interrupted")
    ]
    assert failed
    for trial in failed:
        assert trial.state == TrialState.COMPLETE
        assert trial.values == [0.0, -math.inf]
        assert trial.constraints == {"did_not_finish": 1.0, "metric_drop": 0.0}
    # Optuna's own Pareto front leaves the infeasible out.
    assert train_study.best_trials
    assert all(max(t.constraints.values()) <= 0 for t in train_study.best_trials)


def test_visualizations_draw(train_study) -> None:
    from optuna import visualization as vis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # experimental-feature and small-study warnings
        figures = [
            vis.plot_pareto_front(train_study),
            vis.plot_optimization_history(
                train_study, target=lambda t: t.values[0], target_name="throughput"
            ),
            vis.plot_param_importances(
                train_study, target=lambda t: t.values[0], target_name="throughput"
            ),
        ]
    for figure in figures:
        assert figure.data, figure.layout.title.text
    pareto, history, importance = figures
    assert sum(len(trace.x) for trace in pareto.data) > 0
    # Optuna leaves infeasible trials (failed, or metric dropped) out of the history.
    feasible = [
        t.number
        for t in train_study.trials
        if t.state == TrialState.COMPLETE and max(t.constraints.values()) <= 0
    ]
    assert list(history.data[0].x) == feasible
    assert set(importance.data[0].y) <= set(train_study.best_trials[0].params)


def test_dashboard_reads_the_storage(fake_study) -> None:
    """optuna-dashboard's API (the WSGI app behind its pages) serves the study."""
    pytest.importorskip("optuna_dashboard")
    import json
    from wsgiref.util import setup_testing_defaults

    import optuna_dashboard

    app = optuna_dashboard.wsgi(fake_study.storage)

    def get(path: str) -> dict:
        environ: dict = {}
        setup_testing_defaults(environ)
        environ["PATH_INFO"] = path
        status = []
        body = b"".join(app(environ, lambda s, headers, exc_info=None: status.append(s)))
        assert status == ["200 OK"], (path, body[:300])
        return json.loads(body)

    summaries = {s["study_name"]: s["study_id"] for s in get("/api/studies")["study_summaries"]}
    assert {"tiny:train", "tiny:deploy"} <= set(summaries)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        detail = get(f"/api/studies/{summaries['tiny:train']}")
        assert get(f"/api/studies/{summaries['tiny:train']}/param_importances")
    states = {t["state"] for t in detail["trials"]}
    assert states == {"Complete", "Fail"}
    assert any(t["values"] == [0.0, "-inf"] for t in detail["trials"])
