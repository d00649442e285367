"""``autoaccel bench``: one configuration measured for real, and every bad input."""

from __future__ import annotations

import json

import pytest
from fakes import task_facts


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stage", "serve"], "Invalid value for '--stage'"),
        (["--config", "{batch_size: 8}"], "Error: --config is not valid JSON"),
        (["--config", "missing.json"], "is neither a JSON object nor an existing file"),
    ],
)
def test_bad_input_fails_before_any_trial(run_cli, tasks_dir, args, expected) -> None:
    result = run_cli("bench", str(tasks_dir / "tiny.py"), *args)
    assert result.exit_code == 2
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ('{"batch_sise": 8}', "Error: --config: batch_sise: unknown knob"),
        ('{"batch_size": "8"}', "Error: --config: batch_size: Input should be a valid integer"),
    ],
)
def test_a_wrong_knob_fails_before_the_script_is_loaded(run_cli, tasks_dir, config, expected):
    result = run_cli("bench", str(tasks_dir / "raises_on_import.py"), "--config", config)
    assert result.exit_code == 2
    assert expected in result.stderr  # not the script's own FileNotFoundError


def test_recommendation_without_the_stage(run_cli, tasks_dir, tmp_path) -> None:
    rec = tmp_path / "recommendation.json"
    rec.write_text(json.dumps({"study": "tiny", "stages": {}}))
    result = run_cli("bench", str(tasks_dir / "tiny.py"), "--config", str(rec))
    assert result.exit_code == 2
    assert "has no train recommendation (it has: none)" in result.stderr


@pytest.mark.slow
def test_a_configuration_the_cpu_cannot_run_is_refused(run_cli, tasks_dir) -> None:
    result = run_cli("bench", str(tasks_dir / "tiny.py"), "--config", '{"precision": "fp16"}')
    assert result.exit_code == 2
    assert "this configuration cannot run on" in result.stderr
    assert "fp16 with loss scaling needs a CUDA GPU" in result.stderr


@pytest.mark.slow
def test_bench_measures_and_prints_json(run_cli, tasks_dir) -> None:
    result = run_cli(
        "bench", str(tasks_dir / "tiny.py"), "--config", '{"batch_size": 32}', "--json"
    )
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["config"]["batch_size"] == 32
    measured = document["result"]["measurement"]
    assert document["result"]["outcome"] == "ok"
    assert measured["throughput"]["median"] > 0 and 0 <= measured["metric"] <= 1
    assert measured["timed_steps"] > 0


def test_a_failed_trial_is_printed_and_exits_1(run_cli, monkeypatch, cpu_profile, tasks_dir):
    import autoaccel.bench
    from autoaccel.bench import BenchResult
    from autoaccel.knobs import Config
    from autoaccel.runner import TrialResult

    failed = TrialResult(outcome="oom", reason="OutOfMemoryError: CUDA out of memory.")
    monkeypatch.setattr(
        autoaccel.bench,
        "bench",
        lambda *a, **k: BenchResult(
            "tiny.py", "train", Config(), task_facts(), cpu_profile, failed
        ),
    )
    result = run_cli("bench", str(tasks_dir / "tiny.py"))
    assert result.exit_code == 1
    assert "oom" in result.stdout and "CUDA out of memory" in result.stdout


def test_bench_shows_the_latency_of_a_deploy_trial() -> None:
    from fakes import measurement

    from autoaccel.cli._render import result_rows
    from autoaccel.measure import summarise
    from autoaccel.runner import TrialResult

    latency = [summarise([0.002] * 99 + [0.010], 1), summarise([0.02] * 10, 64)]
    result = TrialResult(
        outcome="ok", measurement=measurement("deploy", 10.0, 0.9, latency=latency)
    )
    rows = dict(result_rows(result))
    assert rows["latency, batch 1"] == "p50 2 ms, p90 2 ms, p99 2.08 ms over 100 requests"
    assert rows["latency, batch 64"].endswith(
        "over 10 requests (only 10 requests were timed: the p99 is close to the slowest one)"
    )
