"""The throwaway train-stage study that oracle.py and replay.py tune into."""

from __future__ import annotations

import argparse
from pathlib import Path

from autoaccel.study import TuneOptions


def train_study_options(folder: str, args: argparse.Namespace, seed: int = 0) -> TuneOptions:
    """A study in ``folder`` over ``args.space`` with ``args.trials`` trials."""
    return TuneOptions(
        study="benchmark",
        storage=f"sqlite:///{folder}/benchmark.db",
        space=args.space,
        stage="train",
        trials=args.trials,
        max_metric_drop=args.max_metric_drop,
        seed=seed,
        studies_dir=Path(folder),
    )
