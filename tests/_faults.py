"""Fault injection: a layer whose Keras builder misbehaves on purpose, and an encoding that puts
one fault kind into each candidate, in a fixed cycle. Faults go through the real pipeline (real
build, real training, real worker processes). A worker that unpickles a Fault spec imports this
module, which registers the builder there too.
"""
import os
import time
from dataclasses import dataclass
from typing import ClassVar

from evokit.builder import LAYER_BUILDERS
from evokit.encodings.base import Encoding, add_head
from evokit.netspec import Dense, Graph, LayerSpec, register_layer

KINDS = ("ok", "nan", "crash", "build", "hang", "die", "huge")
"""ok; NaN loss; an exception while training; cannot be built; hangs; kills its worker; over budget."""


@register_layer
@dataclass(frozen=True)
class Fault(LayerSpec):
    fault: str = "ok"
    kind: ClassVar[str] = "fault"

    def output_shape(self, shapes):
        return shapes[0]


def _crash_layer(keras, name):
    class Crash(keras.layers.Layer):
        def call(self, x, training=None):
            if training:
                raise RuntimeError("injected crash during training")
            return x

    return Crash(name=name)


def _build_fault(layer, rank, seed, name):
    import keras

    if layer.fault == "build":
        raise ValueError("injected: this layer cannot be built")
    if layer.fault == "hang":
        time.sleep(3600)
    if layer.fault == "die":
        os._exit(13)
    if layer.fault == "nan":
        return keras.layers.Lambda(lambda x: x * float("nan"), name=name)
    if layer.fault == "crash":
        return _crash_layer(keras, name)
    return keras.layers.Identity(name=name)


LAYER_BUILDERS[Fault] = _build_fault


class FaultGenome(list):
    """[fault kind, hidden units]."""


class FaultEncoding(Encoding):
    """Genotypes cycle through KINDS; 'huge' has a hidden layer too large for any budget."""

    name = "faults"

    def __init__(self):
        self._next = 0

    def random(self, rng=None):
        kind = KINDS[self._next % len(KINDS)]
        self._next += 1
        return FaultGenome([kind, 200_000 if kind == "huge" else 8])

    def decode(self, genotype, input_shape, n_outputs, task="classification"):
        g = Graph(input_shape)
        x = g.input
        if len(input_shape) > 1:
            from evokit.netspec import Flatten

            x = g.add(Flatten(), x)
        x = g.add(Fault(genotype[0]), g.add(Dense(genotype[1]), x))
        return add_head(g, x, n_outputs, task)

    def register(self, toolbox):
        toolbox.register("mate", lambda a, b: (a, b))
        toolbox.register("mutate", lambda a: (a,))

    def distance(self, a, b):
        return float(a != b)
