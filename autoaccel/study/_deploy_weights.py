"""Choosing the trained weights the deploy stage measures: the model trained with the
train stage's recommendation, or with the task's baseline when there is none yet."""

from __future__ import annotations

import dataclasses
import hashlib
import json

from autoaccel.knobs import Config
from autoaccel.recommend import StageRecommendation


@dataclasses.dataclass(frozen=True)
class WeightsChoice:
    """The configuration to train the deploy stage's model with, and where it came from."""

    config: Config
    recommended: bool  # False: the baseline, the train stage having no recommendation

    @property
    def source(self) -> str:
        return "the train stage's recommendation" if self.recommended else "the baseline"

    def key(self, script_sha256: str, seed: int) -> str:
        """Names the weights: the same key while the script, configuration and seed stay."""
        identity = [self.config.model_dump(), script_sha256, seed]
        return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:12]


def weights_choice(recommended: StageRecommendation | None, baseline: Config) -> WeightsChoice:
    """The train stage's recommendation (its confirmed winner once confirmed), else
    ``baseline``."""
    if recommended is None:
        return WeightsChoice(baseline, recommended=False)
    return WeightsChoice(recommended.config, recommended=True)
