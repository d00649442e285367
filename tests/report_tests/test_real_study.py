"""End to end: a tiny study tuned with real trial processes, then reported."""

from __future__ import annotations

import json

import pytest

from autoaccel.report import build_report, render, render_text

pytestmark = pytest.mark.slow


def test_report_of_a_real_study(real_study) -> None:
    info = build_report(real_study.storage, "tiny", studies_dir=real_study.studies_dir)
    assert set(info.stages) == {"train", "deploy"}
    assert info.hardware.software.torch
    for stage in info.stages.values():
        assert stage.baseline_trial == 0
        assert stage.recommendation is not None and stage.recommendation.speedup > 0
        baseline = stage.trial(0)
        assert baseline.outcome == "ok" and baseline.throughput.rate > 0
        assert baseline.peak_memory_bytes and baseline.memory_kind == "process_rss"
        assert stage.pareto_front and stage.top_trials
        assert stage.importance.note.startswith("too few trials")  # two trials
        assert stage.bottleneck is not None and stage.bottleneck.flops_per_sample
        assert stage.apply.recommendation_file_exists
    train = info.stages["train"]
    assert train.trial(0).data_wait_share is not None
    text = render_text(info)
    assert "Train stage" in text and "Deploy stage (inference)" in text
    if info.hardware.primary is None:  # a CPU study: the probe measured the CPU's peak
        assert train.trial(0).mfu and train.trial(0).peak_dtype == "fp32"
        assert "of the fp32 peak" in text
    assert json.loads(render(info, "json"))["stages"]["deploy"]["trials"]


def test_commands_on_a_real_study(run_cli, real_study, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(real_study.root)
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    result = run_cli("report", "tiny", "-f", "markdown", "-o", str(tmp_path / "tiny.md"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "tiny_files" / "pareto-train.png").exists()
    listed = run_cli("studies", "list", "--json")
    (study,) = json.loads(listed.stdout)["studies"]
    assert study["stages"]["train"]["finished"] == 2
