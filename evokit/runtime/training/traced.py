"""Trace once, train many: one Keras graph per structural signature, reused across candidates.

A new small model pays ~0.5 s of graph tracing on its first ``fit`` and ~0.1 s more for its
first evaluation (ENVIRONMENT.md, "Where the time goes"): more than its training steps. Here a
candidate whose NetSpec is *maskable* is trained in a padded graph instead:

* **maskable** = a chain (no merges, no skip connections) of Conv1D/Conv2D, Pool, Activation,
  Dropout, Flatten/GlobalPool and Dense layers, ending in a Dense head. BatchNorm, merges
  (Add/Concat), NEAT neuron graphs and GP DAGs fall back to one model per candidate
  (:func:`evokit.runtime.training.trainer.train` does that by itself).
* **signature** = the input shape and, per layer, its kind, its pooling/stride/padding, its
  width bucket (next power of two >= the width, at least ``MIN_WIDTH``: compute stays <= 2x per
  axis and few graphs exist per structure), its kernel bucket (the next odd size for stride-1
  'same' convolutions, whose smaller kernels sit centred inside the bucket; exact otherwise),
  its dropout rate and its activation ("gated" for ``GATED_ACTIVATIONS``, which a one-hot gate
  variable picks, so relu/elu/tanh candidates share a graph). The head keeps its exact width.
* Each graph is built, compiled and traced once per process, kept in a bounded LRU cache, and
  reused by assigning the candidate's initial weights, masks, gates, dropout rates and seeds and
  resetting the optimizer's slots and ``iterations`` (not its learning rate). Training is the
  batch loop every candidate uses (:mod:`evokit.runtime.training.loop`); validation is an eager
  forward pass for a graph's first candidate and ``predict_on_batch`` (one traced forward
  function, not ``model.evaluate``) for the next ones.

Candidates are exactly the networks their NetSpec describes: effective kernels and biases are
``variable * mask`` with non-trainable 0/1 masks, so masked entries get exactly zero gradient
and, starting at zero with zeroed optimizer slots, stay zero (Adam, RMSprop, SGD, AdamW's decay
of a zero); initial weights are drawn at the candidate's *true* shapes by the same seeded
initializers as :func:`evokit.builder.build` and embedded, so they are identical; returned
weights are sliced back to the true shapes (``build(spec).get_weights()`` order), and
parameter counts come from the NetSpec. With the same seed, the standalone path (one
``build(spec, seed)`` model, the same batch loop) and its masked twin end with the same weights
up to float reduction order (zero-padded sums); dropout draws over the padded shape, so networks
with dropout agree in distribution only.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from evokit import tasks
from evokit.evaluation import Evaluation, TrainingConfig, exception_failure
from evokit.netspec import INPUT, Activation, Conv1D, Conv2D, Dense, Dropout, Flatten, GlobalPool, NetSpec, Pool
from evokit.runtime.training import forward
from evokit.runtime.training.compiling import compile_model
from evokit.runtime.training.loop import train_and_score
from evokit.runtime.training.seeds import seed_candidate

MIN_WIDTH = 8
"""Smallest width bucket: widths 1..8 share one graph."""
GATED_ACTIVATIONS = ("relu", "elu", "tanh")
"""Activations chosen by a gate variable rather than by the signature (DeepGA's defaults)."""
MAX_GRAPHS = 16
"""Traced graphs kept per process (least recently used dropped first)."""


def width_bucket(width: int) -> int:
    """The padded width a layer of ``width`` channels/units is trained with."""
    return max(MIN_WIDTH, 1 << (width - 1).bit_length())


def kernel_bucket(size: int) -> int:
    """The padded kernel size (per axis) of a stride-1 'same' convolution: the next odd size."""
    return size if size % 2 else size + 1


@dataclass
class _Step:
    """One layer of a maskable network: what it is for this candidate, and in the padded graph."""

    index: int
    layer: Any
    key: list[Any]
    in_true: tuple[int, ...] = ()  # a weighted layer's input shape (dense: the shape it flattens)
    in_pad: tuple[int, ...] = ()
    out_true: int = 0  # output channels/units
    out_pad: int = 0
    kernel: tuple[int, ...] = ()  # conv: true and padded kernel, offset of the true taps
    kernel_pad: tuple[int, ...] = ()
    offset: tuple[int, ...] = ()
    activation: str = "linear"


@dataclass
class Plan:
    """How one maskable NetSpec maps onto its padded graph; ``signature`` names the graph and
    ``flops`` is the padded graph's forward cost per sample (NetSpec's count: 2 per multiply-add)."""

    spec: NetSpec
    steps: list[_Step]
    signature: str
    flops: int = 0


WIDTH_CEILING = 128
"""The widest a layer is padded to when it is cheap to (see :func:`plan`'s ``samples``)."""
KERNEL_CEILING = 5
"""The largest kernel a stride-1 'same' convolution is padded to when it is cheap to."""
TRACE_COST_FLOPS = 1e9
"""What padding may add to one candidate's training, in forward FLOPs summed over the samples it
trains on, rather than trace a graph of its own. On the development machine (2 cores,
TensorFlow, digits) tracing a new graph costs ~0.25 s and a step ~1 ms per MFLOP of per-sample
forward cost at batch 32, so 8e9 would break even on paper; but padded, gated steps cost more
than their FLOPs say. Replaying a 153-genotype DeepGA GA serially: 4e9 took 58.3 s (25 graphs
reused), 1e9 54.5 s (18 reused), no widening 53.9 s (12 reused). 1e9 is as fast as none and
traces a third fewer graphs, and every new graph costs memory like a new model."""


def plan(spec: NetSpec, samples: int = 0) -> Plan | None:
    """The padded-graph plan of ``spec``, or None when it is not maskable (then it is trained
    as one model of its own).

    Each layer is padded to its own buckets. With ``samples`` (how many samples the candidate
    trains on: training examples x epochs), layers where it is cheap are then padded further, to
    ``WIDTH_CEILING`` channels/units and ``KERNEL_CEILING`` taps, while the extra forward FLOPs
    over those samples stay within ``TRACE_COST_FLOPS``: the cheapest widening first, layer by
    layer. Cheap layers (dense layers, convolutions after pooling) then share one padded size and
    networks that differ only there share one graph, while expensive layers keep their buckets.
    The result depends on ``spec`` and ``samples`` alone, so a network trains the same in any
    process and any order.
    """
    own = _plan(spec, {})
    if own is None or samples <= 0:
        return own
    pads: dict[int, tuple[tuple[int, ...], int]] = {s.index: (s.kernel_pad, s.out_pad) for s in own.steps
                                                    if s.out_pad and s.index != len(spec.nodes) - 1}
    best = own
    while True:
        options = []
        for index, (kernel, width) in sorted(pads.items()):
            layer = own.spec.nodes[index].layer
            widened = []
            if width < WIDTH_CEILING:
                widened.append((kernel, WIDTH_CEILING))
            if isinstance(layer, (Conv1D, Conv2D)) and _bucketed(layer) and min(kernel) < KERNEL_CEILING:
                widened.append((tuple(max(k, KERNEL_CEILING) for k in kernel), width))
            for option in widened:
                trial = _plan(spec, {**pads, index: option})
                if trial is not None and (trial.flops - own.flops) * samples <= TRACE_COST_FLOPS:
                    options.append((trial.flops, index, option, trial))
        if not options:
            return best
        _, index, option, best = min(options, key=lambda o: o[:2])
        pads[index] = option


def _bucketed(layer: Any) -> bool:
    """Whether a convolution's kernel can sit centred in a larger one (stride 1, 'same')."""
    return layer.padding == "same" and set(layer.stride) == {1}


MASKABLE_LAYERS = (Conv1D, Conv2D, Pool, GlobalPool, Flatten, Dense, Dropout, Activation)
"""The layer kinds a padded graph has (see the module docstring)."""


def _is_chain(spec: NetSpec) -> bool:
    """Whether validated ``spec`` has a padded graph's shape: a chain of ``MASKABLE_LAYERS``, each
    reading the one before, ending in a Dense head, with a softmax at the head only."""
    last = len(spec.nodes) - 1
    if not isinstance(spec.nodes[last].layer, Dense):
        return False
    for i, node in enumerate(spec.nodes):
        if type(node.layer) not in MASKABLE_LAYERS or node.inputs != ((INPUT,) if i == 0 else (i - 1,)):
            return False
        if getattr(node.layer, "activation", None) == "softmax" and i != last:
            return False  # softmax mixes channels: padded ones would change the true ones' values
    return True


def _plan(spec: NetSpec, pads: dict[int, tuple[tuple[int, ...], int]]) -> Plan | None:
    """:func:`plan` with each weighted layer at its own buckets, or at ``pads[index]`` (kernel,
    width) where given."""
    spec = spec.validate()
    if not _is_chain(spec):
        return None
    steps: list[_Step] = []
    flops = 0
    true_shape, pad_shape = spec.input_shape, spec.input_shape
    flat_from: tuple[tuple[int, ...], tuple[int, ...]] | None = None  # (true, padded) shape a Flatten read
    last = len(spec.nodes) - 1
    for i, node in enumerate(spec.nodes):
        layer = node.layer
        out = spec.shapes[i]
        step = _Step(i, layer, [layer.kind])
        if isinstance(layer, (Conv1D, Conv2D)):
            step.kernel = layer.kernel
            step.kernel_pad = tuple(kernel_bucket(k) for k in layer.kernel) if _bucketed(layer) else layer.kernel
            step.out_pad = layer.filters if i == last else width_bucket(layer.filters)
            step.kernel_pad, step.out_pad = pads.get(i, (step.kernel_pad, step.out_pad))
            step.offset = tuple((kp - 1) // 2 - (k - 1) // 2 for k, kp in zip(step.kernel, step.kernel_pad))
            step.in_true, step.in_pad = true_shape, pad_shape
            step.out_true = layer.filters
            step.activation = layer.activation
            step.key += [step.kernel_pad, layer.stride, layer.padding, layer.use_bias, step.out_pad]
            flops += 2 * math.prod(out[:-1]) * math.prod(step.kernel_pad) * pad_shape[-1] * step.out_pad
            true_shape, pad_shape = out, (*out[:-1], step.out_pad)
        elif isinstance(layer, Dense):
            source = flat_from if flat_from is not None else (true_shape, pad_shape)
            step.in_true, step.in_pad = source
            step.out_true = layer.units
            step.out_pad = layer.units if i == last else pads.get(i, ((), width_bucket(layer.units)))[1]
            step.activation = layer.activation
            step.key += [layer.use_bias, step.out_pad]
            flops += 2 * math.prod(step.in_pad) * step.out_pad
            true_shape, pad_shape, flat_from = out, (step.out_pad,), None
        elif isinstance(layer, Flatten):
            flat_from = flat_from or (true_shape, pad_shape)  # the layout the next dense layer reads
            true_shape, pad_shape = out, (math.prod(pad_shape),)
        elif isinstance(layer, (Pool, GlobalPool)):
            step.key.append({k: v for k, v in layer.key_config().items() if k != "pool"} if isinstance(layer, Pool)
                            else {})  # max or average: picked by a gate
            pad_shape = (*out[:-1], pad_shape[-1])
            true_shape = out
        elif isinstance(layer, Activation):
            step.activation = layer.activation
        # a Dropout's rate is a variable: only its position is structural
        if isinstance(layer, (Conv1D, Conv2D, Dense, Activation)):
            step.key.append("gated" if step.activation in GATED_ACTIVATIONS else step.activation)
        if isinstance(layer, Dropout) and steps and steps[-1].key[0] == "dropout" and steps[-1].index < 0:
            steps[-1] = step  # this dropout fills the slot its dense layer left
            continue
        steps.append(step)
        if isinstance(layer, Dense) and i != last:
            steps.append(_Step(-1, Dropout(0.0), ["dropout"]))  # a slot: hidden dense layers may have one
    signature = json.dumps([list(spec.input_shape), [s.key for s in steps]], default=list)
    return Plan(spec, steps, signature, flops)


def maskable(spec: NetSpec) -> bool:
    """Whether ``spec`` can be trained in a shared padded graph (see the module docstring)."""
    return plan(spec) is not None


# -- the padded graph ---------------------------------------------------------------------------


def _activate(x: Any, activation: str, gates: Any) -> Any:
    if activation != "gated":
        return keras.activations.get(activation)(x)
    # one branch runs (a conditional in the graph), not all of them blended by the gates
    branches = [keras.activations.get(name) for name in GATED_ACTIVATIONS]
    return keras.ops.switch(keras.ops.cast(keras.ops.argmax(gates), "int32"), branches, x)


class _Masked(keras.layers.Layer):
    """A convolution or dense layer whose effective kernel and bias are ``variable * mask``."""

    def __init__(self, kernel_shape: tuple[int, ...], use_bias: bool, activation: str, strides: Any = 1,
                 padding: str = "valid", conv: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.kernel_shape, self.use_bias, self.activation = tuple(kernel_shape), use_bias, activation
        self.strides, self.padding, self.conv = strides, padding, conv

    def build(self, input_shape: Any) -> None:
        zeros = keras.initializers.Zeros()
        self.kernel = self.add_weight(shape=self.kernel_shape, initializer=zeros, name="kernel")
        self.kernel_mask = self.add_weight(shape=self.kernel_shape, initializer=zeros, name="kernel_mask",
                                           trainable=False)
        if self.use_bias:
            self.bias = self.add_weight(shape=self.kernel_shape[-1:], initializer=zeros, name="bias")
            self.bias_mask = self.add_weight(shape=self.kernel_shape[-1:], initializer=zeros, name="bias_mask",
                                             trainable=False)
        if self.activation == "gated":
            self.gates = self.add_weight(shape=(len(GATED_ACTIVATIONS),), initializer=zeros, name="gates",
                                         trainable=False)

    def call(self, x: Any) -> Any:
        kernel = self.kernel * self.kernel_mask
        if self.conv:
            y = keras.ops.conv(x, kernel, strides=self.strides, padding=self.padding)
        else:
            y = keras.ops.matmul(x, kernel)
        if self.use_bias:
            y = y + self.bias * self.bias_mask
        return _activate(y, self.activation, getattr(self, "gates", None))


class _Gate(keras.layers.Layer):
    """A stand-alone activation layer chosen by a gate variable."""

    def build(self, input_shape: Any) -> None:
        self.gates = self.add_weight(shape=(len(GATED_ACTIVATIONS),), initializer="zeros", name="gates",
                                     trainable=False)

    def call(self, x: Any) -> Any:
        return _activate(x, "gated", self.gates)


class _GatedPool(keras.layers.Layer):
    """Max or average pooling (same window), chosen by a gate variable (1: max, 0: average)."""

    def __init__(self, pools: tuple[Any, Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.pools = pools

    def build(self, input_shape: Any) -> None:
        self.gate = self.add_weight(shape=(), initializer="ones", name="gate", trainable=False)

    def call(self, x: Any) -> Any:
        return keras.ops.switch(keras.ops.cast(1.0 - self.gate, "int32"), list(self.pools), x)


class _Dropout(keras.layers.Layer):
    """Dropout whose rate is a variable (0: the identity, exactly), with a seeded generator."""

    def build(self, input_shape: Any) -> None:
        self.rate = self.add_weight(shape=(), initializer="zeros", name="rate", trainable=False)
        self.seed_generator = keras.random.SeedGenerator(0)

    def call(self, x: Any, training: bool = False) -> Any:
        if not training:
            return x
        keep = keras.random.uniform(keras.ops.shape(x), seed=self.seed_generator) >= self.rate
        return keras.ops.where(keep, x / (1.0 - self.rate), keras.ops.zeros_like(x))


class _Net(keras.Model):
    """The padded graph: layers applied in a chain. ``traces`` counts traced training steps
    (Python runs ``call(training=True)`` only while a train function is being traced)."""

    def __init__(self, steps: list[Any], **kwargs: Any):
        super().__init__(**kwargs)
        self.chain = steps
        self.traces = 0

    def call(self, x: Any, training: bool = False) -> Any:
        if training:
            self.traces += 1
        for layer in self.chain:
            x = layer(x, training=training) if isinstance(layer, _Dropout) else layer(x)
        return x


class TracedGraph:
    """One compiled padded graph and how to load a candidate into it and read it back."""

    def __init__(self, first: Plan, config: TrainingConfig, task: tasks.Task):
        from evokit.builder import _layer

        self.layers: list[Any] = []
        for step in first.steps:
            layer, gated = step.layer, step.key[-1] == "gated"
            name = f"n{step.index}_{layer.kind}"
            if isinstance(layer, (Conv1D, Conv2D)):
                shape = (*step.kernel_pad, step.in_pad[-1], step.out_pad)
                made = _Masked(shape, layer.use_bias, "gated" if gated else layer.activation, layer.stride,
                               layer.padding, conv=True, name=name)
            elif isinstance(layer, Dense):
                made = _Masked((math.prod(step.in_pad), step.out_pad), layer.use_bias,
                               "gated" if gated else layer.activation, name=name)
            elif isinstance(layer, Activation) and gated:
                made = _Gate(name=name)
            elif isinstance(layer, (Pool, GlobalPool)):
                rank = len(first.spec.input_shapes(step.index)[0])
                made = _GatedPool(tuple(_layer(keras, dataclasses.replace(layer, pool=kind), rank, 0, f"{name}_{kind}")
                                        for kind in ("max", "avg")), name=name)
            elif isinstance(layer, Dropout):
                made = _Dropout(name=f"n{step.index}_dropout" if step.index >= 0 else f"slot{len(self.layers)}_dropout")
            else:
                made = _layer(keras, layer, len(first.spec.input_shapes(step.index)[0]), 0, name)
            self.layers.append(made)
        self.model = _Net(self.layers, name="evokit_traced")
        self.model(np.zeros((1, *first.spec.input_shape), "float32"))  # creates every layer's variables
        compile_model(self.model, config, task)
        self.candidates = 0  # candidates trained in this graph

    @property
    def traces(self) -> int:
        """How many times this graph's train step has been traced."""
        return self.model.traces

    def load(self, p: Plan, seed: int, weights: list[Any] | None = None) -> None:
        """Make the graph compute ``p.spec``: its weights (seeded initial ones like ``build(spec,
        seed)``, or ``weights`` in ``build(spec).get_weights()`` order), masks, gates, dropout
        seeds; and reset the optimizer."""
        given = iter(weights) if weights is not None else None
        for step, layer in zip(p.steps, self.layers):
            node_seed = (seed * 1009 + step.index) % 2**31
            if isinstance(layer, _Masked):
                true_shape = self._true_kernel_shape(step)
                if given is not None:
                    kernel = np.asarray(next(given)).reshape(true_shape)
                else:
                    kernel = np.asarray(keras.initializers.GlorotUniform(seed=node_seed)(true_shape))
                padded, mask = self._embed(step, layer, kernel)
                layer.kernel.assign(padded)
                layer.kernel_mask.assign(mask)
                if layer.use_bias:
                    bias = np.zeros(step.out_pad, "float32")
                    bias_mask = np.zeros(step.out_pad, "float32")
                    bias[:step.out_true] = np.asarray(next(given)) if given is not None else 0.0
                    bias_mask[:step.out_true] = 1.0
                    layer.bias.assign(bias)
                    layer.bias_mask.assign(bias_mask)
            if hasattr(layer, "gates"):
                layer.gates.assign(np.array([a == step.activation for a in GATED_ACTIVATIONS], "float32"))
            if isinstance(layer, _GatedPool):
                layer.gate.assign(1.0 if step.layer.pool == "max" else 0.0)
            if isinstance(layer, _Dropout):
                layer.rate.assign(step.layer.rate)
                layer.seed_generator.state.assign(np.array([node_seed, 0], layer.seed_generator.state.dtype))
        for variable in self.model.optimizer.variables:
            if "learning_rate" not in variable.path:  # zeroing the learning rate would stop training
                variable.assign(np.zeros(variable.shape, variable.dtype))

    @staticmethod
    def _true_kernel_shape(step: _Step) -> tuple[int, ...]:
        if isinstance(step.layer, Dense):
            return (math.prod(step.in_true), step.out_true)
        return (*step.kernel, step.in_true[-1], step.out_true)

    def _where(self, step: _Step) -> tuple[tuple[int, ...], tuple[slice, ...]]:
        """The padded kernel viewed so that the true kernel is one rectangular slice of it."""
        if isinstance(step.layer, Dense):
            view = (*step.in_pad, step.out_pad)
            where = tuple(slice(0, n) for n in step.in_true) + (slice(0, step.out_true),)
        else:
            view = (*step.kernel_pad, step.in_pad[-1], step.out_pad)
            where = tuple(slice(o, o + k) for o, k in zip(step.offset, step.kernel))
            where += (slice(0, step.in_true[-1]), slice(0, step.out_true))
        return view, where

    def _embed(self, step: _Step, layer: Any, kernel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        view, where = self._where(step)
        padded = np.zeros(view, "float32")
        mask = np.zeros(view, "float32")
        true_view = tuple(s.stop - s.start for s in where)
        padded[where] = kernel.reshape(true_view)
        mask[where] = 1.0
        return padded.reshape(layer.kernel_shape), mask.reshape(layer.kernel_shape)

    def true_weights(self, p: Plan) -> list[np.ndarray]:
        """The candidate's trained weights at its true shapes, in ``build(spec).get_weights()`` order."""
        out: list[np.ndarray] = []
        for step, layer in zip(p.steps, self.layers):
            if isinstance(layer, _Masked):
                view, where = self._where(step)
                out.append(np.array(np.asarray(layer.kernel).reshape(view)[where]).reshape(
                    self._true_kernel_shape(step)))
                if layer.use_bias:
                    out.append(np.array(np.asarray(layer.bias)[:step.out_true]))
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Inference-mode forward pass: eager for the graph's first candidate, through its one
        traced predict function from the second on. Most graphs of a GA's varied networks serve
        one candidate, and tracing a predict function costs more than one eager pass (on the
        development machine ~100 ms against ~30 ms per candidate)."""
        return forward.predict(self.model, x, traced=self.candidates > 1)


_GRAPHS: "collections.OrderedDict[str, TracedGraph]" = collections.OrderedDict()


def graph_for(p: Plan, config: TrainingConfig, task: str | tasks.Task) -> TracedGraph:
    """The cached graph of ``p``'s signature for these settings and task (a name or a Task;
    built and compiled with the loss ``config`` chooses among the task's on a miss)."""
    task = tasks.get(task)
    key = "|".join([keras.config.backend(), p.signature, config.optimizer, repr(config.learning_rate), repr(task),
                    repr(config.loss)])
    graph = _GRAPHS.pop(key, None)
    if graph is None:
        graph = TracedGraph(p, config, task)
    _GRAPHS[key] = graph
    while len(_GRAPHS) > MAX_GRAPHS:
        _GRAPHS.popitem(last=False)
    return graph


def cached_graphs() -> int:
    """How many traced graphs this process holds."""
    return len(_GRAPHS)


def clear_graphs() -> None:
    """Drop every cached graph (the next candidates trace again)."""
    _GRAPHS.clear()


def fit(p: Plan, data: Any, config: TrainingConfig, seed: int, start: float, weights: list[Any] | None = None,
        train: bool = True) -> tuple[Evaluation, TracedGraph | None]:
    """Train (or, with ``train=False``, only score) the candidate ``p`` in its traced graph."""
    spec = p.spec
    try:
        began = time.perf_counter()
        graph = graph_for(p, config, data.task)
        loading = time.perf_counter()
        seed_candidate(seed)
        graph.load(p, seed, weights)
        graph.candidates += 1
    except Exception as exc:  # noqa: BLE001 - a candidate that cannot be loaded fails alone
        return exception_failure(spec, exc, "build_error", time.perf_counter() - start), None
    phases = {"build": loading - began, "load": time.perf_counter() - loading}  # build: 0 for a cached graph
    evaluation = train_and_score(spec, graph.model, data, config, seed, start, graph.predict, train=train,
                                 phases=phases)
    if evaluation.failed:
        return evaluation, None
    evaluation.extra.setdefault("step_time", 0.0)
    evaluation.extra.update(trace_once=True, traces=graph.traces, graph_reused=graph.candidates > 1)
    return evaluation, graph
