"""The Keras layer of the ``NeuronGraph`` spec (``evokit.netspec.neurons``) and its builder."""
from __future__ import annotations

from typing import Any

import keras

from evokit.builder import LAYER_BUILDERS
from evokit.errors import ConfigError
from evokit.netspec.neurons import NeuronGraph as NeuronGraphSpec


@keras.saving.register_keras_serializable(package="evokit")
class NeuronGraph(keras.layers.Layer):
    """A sparse feed-forward graph of single neurons, as a NEAT genome describes it.

    Neurons are evaluated level by level (see ``evokit.netspec.neurons``): each level gathers its
    sources' values, multiplies them by their connection weights, sums them per neuron, adds the
    biases and applies the activation. The weights are exactly one per connection and one bias
    per non-input neuron: no dense masked matrix.

    Args:
        n_inputs: input neurons (the input's width).
        n_outputs: output neurons.
        hidden: ``[node_id, activation]`` per hidden neuron.
        connections: ``[src, dst]`` per connection; the kernel follows this order.
        output_activation: the output neurons' activation.
        kernel_initializer, bias_initializer: initialisers of the two weight vectors (used only
            when the weights are not set from a genome).

    Input shape:
        ``(batch, n_inputs)``.

    Output shape:
        ``(batch, n_outputs)``.

    Weights:
        ``kernel`` ``(len(connections),)`` then ``bias`` ``(len(hidden) + n_outputs,)``: the hidden
        neurons' biases in the order of ``hidden``, then the outputs'.
    """

    def __init__(self, n_inputs: int, n_outputs: int, hidden: Any = (), connections: Any = (),
                 output_activation: str = "linear", kernel_initializer: Any = "random_normal",
                 bias_initializer: Any = "zeros", **kwargs: Any):
        super().__init__(**kwargs)
        # The spec validates every argument and schedules the evaluation.
        self.spec = NeuronGraphSpec(n_inputs, n_outputs, hidden, connections, output_activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self._scatter = tuple(step.scatter() for step in self.spec.plan.steps)

    def build(self, input_shape: Any) -> None:
        width = input_shape[-1]
        if len(input_shape) != 2 or (width is not None and width != self.spec.n_inputs):
            raise ConfigError(f"input_shape={tuple(input_shape)!r} is invalid: expected (batch, "
                              f"{self.spec.n_inputs}), one feature per input neuron")
        self.kernel = self.add_weight(name="kernel", shape=(len(self.spec.connections),),
                                      initializer=self.kernel_initializer)
        self.bias = self.add_weight(name="bias", shape=(self.spec.n_neurons,), initializer=self.bias_initializer)
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        ops = keras.ops
        values = ops.cast(inputs, self.compute_dtype)
        for step, scatter in zip(self.spec.plan.steps, self._scatter):
            if step.conn_index:
                sources = ops.take(values, list(step.src), axis=1)
                weights = ops.take(self.kernel, list(step.conn_index))
                z = ops.matmul(sources * ops.cast(weights, values.dtype), ops.convert_to_tensor(scatter, values.dtype))
            else:
                z = ops.zeros_like(values[:, :1])
            z = z + ops.cast(ops.take(self.bias, list(step.bias_index)), values.dtype)
            values = ops.concatenate([values, keras.activations.get(step.activation)(z)], axis=1)
        return ops.take(values, list(self.spec.plan.output_columns), axis=1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.spec.n_outputs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_inputs": self.spec.n_inputs, "n_outputs": self.spec.n_outputs,
                "hidden": [list(h) for h in self.spec.hidden],
                "connections": [list(c) for c in self.spec.connections],
                "output_activation": self.spec.output_activation,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


def build_neuron_graph(layer: NeuronGraphSpec, input_rank: int, seed: int, name: str) -> NeuronGraph:
    """``LAYER_BUILDERS`` entry: the Keras layer of a ``NeuronGraph`` spec, seeded."""
    return NeuronGraph(layer.n_inputs, layer.n_outputs, layer.hidden, layer.connections, layer.output_activation,
                       kernel_initializer=keras.initializers.RandomNormal(stddev=1.0, seed=seed),
                       bias_initializer=keras.initializers.Zeros(), name=name)


LAYER_BUILDERS[NeuronGraphSpec] = build_neuron_graph
