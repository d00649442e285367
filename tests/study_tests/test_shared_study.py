"""Two tuners on one study, each in its own process: they share the target, measure
different configurations and each reports its own trials."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import optuna

TRIALS = 6
FAKE_TUNER = Path(__file__).parents[1] / "fake_tuner.py"


def test_two_tuners_share_the_target_and_each_reports_its_own_trials(tmp_path) -> None:
    options = json.dumps(
        {
            "storage": f"sqlite:///{tmp_path}/studies/autoaccel.db",
            "studies_dir": str(tmp_path / "studies"),
            "stage": "train",
            "trials": TRIALS,
            "confirm": 0,
        }
    )
    events = [tmp_path / "first.json", tmp_path / "second.json"]
    tuners = [
        subprocess.Popen(
            [sys.executable, str(FAKE_TUNER), "run", options, str(path), "0.5"],
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in events
    ]
    for tuner in tuners:
        _, err = tuner.communicate(timeout=120)
        assert tuner.returncode == 0, err
    study = optuna.load_study(study_name="tiny:train", storage=json.loads(options)["storage"])
    trials = study.get_trials(deepcopy=False)
    measured = [t for t in trials if t.state.name == "COMPLETE" and "repeat_of" not in t.user_attrs]
    assert len(measured) == TRIALS  # the study's count, not each tuner's
    assert not [t for t in trials if t.state.name == "RUNNING"]
    logs = [json.loads(path.read_text()) for path in events]
    assert all(log["started"] for log in logs)  # both measured something
    for log in logs:
        own = {t.number for t in trials if t.user_attrs.get("pid") == log["pid"]}
        assert {line["number"] for line in log["finished"]} <= own
        assert all(line["finished"] <= TRIALS for line in log["finished"])
    first, second = ([json.dumps(c, sort_keys=True) for c in log["measured"]] for log in logs)
    assert not set(first) & set(second)
