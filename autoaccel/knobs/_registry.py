"""Every knob, in the order configurations list them, and the order each stage applies them."""

from __future__ import annotations

from autoaccel.knobs import (
    _accumulation,
    _augment,
    _backend,
    _batch_size,
    _cache,
    _channels_last,
    _compile,
    _distill,
    _loader,
    _optimizer_impl,
    _precision,
    _pruning,
    _quantization,
    _world_size,
)
from autoaccel.knobs._knob import Knob
from autoaccel.knobs._steps import PLACE, StageSteps

KNOBS: tuple[Knob, ...] = (
    _batch_size.KNOB,
    _accumulation.KNOB,
    _optimizer_impl.KNOB,
    _precision.KNOB,
    _loader.NUM_WORKERS,
    _loader.PIN_MEMORY,
    _loader.PERSISTENT_WORKERS,
    _loader.PREFETCH_FACTOR,
    _cache.KNOB,
    _augment.KNOB,
    _channels_last.KNOB,
    _compile.KNOB,
    _pruning.KNOB,
    _distill.KNOB,
    _quantization.KNOB,
    _world_size.KNOB,
    _backend.KNOB,
)

# The train stage trains the placed module and calls it compiled.
TRAIN = StageSteps(
    module=(PLACE, _precision.MATMUL_FLAGS, _channels_last.CHANNELS_LAST),
    serve=(_compile.COMPILE,),
    inputs=(_channels_last.CHANNELS_LAST_INPUTS,),
    call=_precision.AUTOCAST,
)
# The deploy stage prunes the trained float model (FLOPs and parameters are counted on it,
# placed), then converts it to serve.
DEPLOY = StageSteps(
    module=(_pruning.PRUNE, PLACE, _precision.MATMUL_FLAGS),
    serve=(_quantization.QUANTIZE, _channels_last.CHANNELS_LAST, _compile.COMPILE, _backend.SERVE),
    inputs=(_channels_last.CHANNELS_LAST_INPUTS,),
    call=_precision.AUTOCAST,
)
