"""Every knob, in the order configurations list them."""

from __future__ import annotations

from autoaccel.knobs import (
    _batch_size,
    _channels_last,
    _compile,
    _loader,
    _precision,
    _pruning,
    _quantization,
)
from autoaccel.knobs._knob import Knob

KNOBS: tuple[Knob, ...] = (
    _batch_size.KNOB,
    _precision.KNOB,
    _loader.NUM_WORKERS,
    _loader.PIN_MEMORY,
    _loader.PERSISTENT_WORKERS,
    _loader.PREFETCH_FACTOR,
    _channels_last.KNOB,
    _compile.KNOB,
    _pruning.KNOB,
    _quantization.KNOB,
)
