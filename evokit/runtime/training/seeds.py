"""Seeds of one candidate: which seed a network trains with, and seeding a process for it.

The lowest module of the training room (with :mod:`compiling` and :mod:`forward`): it imports
nothing of evokit, and everything above it seeds through it.
"""
from __future__ import annotations

import hashlib
import random

import numpy as np


def candidate_seed(run_seed: int, spec_hash: str) -> int:
    """The seed one network is built and trained with, from the run seed and its hash."""
    return int(hashlib.sha256(f"{run_seed}:{spec_hash}".encode()).hexdigest()[:8], 16) % (2**31 - 1)


def seed_candidate(seed: int) -> None:
    """Seed Python, NumPy and Keras's global ``SeedGenerator`` for one candidate.

    What ``keras.utils.set_random_seed`` does, but without ``tf.random.set_seed``: TensorFlow
    clears its kernel cache whenever its global seed is set, and every traced function then
    instantiates its kernels again at its next call (measured: 27-31 ms on the first step of
    each candidate in a reused trace-once graph, against ~2 ms for a step). evokit seeds every
    initializer and dropout layer explicitly, and Keras's random ops take their seeds from
    Keras's own generator, so TensorFlow's global seed decides nothing here.
    """
    try:
        from keras.src.backend.common import global_state
        from keras.src.random.seed_generator import GLOBAL_SEED_GENERATOR
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:  # a Keras without these internals: the public call, cache clearing and all
        import keras

        keras.utils.set_random_seed(seed)
        return
    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(GLOBAL_SEED_GENERATOR, None)  # made again from the seed
    random.seed(seed)
    np.random.seed(seed)
