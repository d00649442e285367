"""Report fixtures: one study built with a fake runner per session (read-only; tests that
change it work on a copy), and one tiny real study for the slow end-to-end test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fakes import StoredStudy
from report_fakes import build_study


@pytest.fixture(scope="session")
def fake_study(built_once) -> StoredStudy:
    """Study "tiny": both stages, 12 trials each, every outcome, on a pretend H100; beside
    it in the same storage, study "other" (train, 2 trials). Do not change them."""

    def build(root: Path) -> None:
        build_study(root, trials=12)
        build_study(root, name="other", stage="train", trials=2, interrupt_at=None)

    root = built_once("fake-study", build)
    return StoredStudy(root, f"sqlite:///{root}/studies/autoaccel.db")


@pytest.fixture
def study_here(fake_study: StoredStudy, tmp_path: Path, monkeypatch) -> StoredStudy:
    """A copy of the fake study in ``tmp_path``, the working directory, at the default
    storage URL: commands run without --storage."""
    shutil.copytree(fake_study.studies_dir, tmp_path / "studies")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("AUTOACCEL_STORAGE", raising=False)
    return StoredStudy(tmp_path, "sqlite:///studies/autoaccel.db")


@pytest.fixture(scope="session")
def info(fake_study: StoredStudy):
    from autoaccel.report import build_report

    return build_report(fake_study.storage, fake_study.name, studies_dir=fake_study.studies_dir)
