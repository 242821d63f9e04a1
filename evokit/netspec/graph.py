"""NetSpec: the one architecture description between every encoding and Keras.

A NetSpec is an immutable DAG of layer specs over one input. Node ``i`` reads from earlier nodes
(``inputs`` holds their indices, ``INPUT`` means the network input); the last node is the output.
Everything here is pure Python: shape inference, parameter counts, FLOPs and the canonical hash
need no TensorFlow, so encodings, operators and complexity objectives run without it.
"""
from __future__ import annotations

import functools
import hashlib
import itertools
import json
import types
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from evokit.errors import ArchitectureError
from evokit.netspec.layers import LayerSpec, Shape, layer_from_config
from evokit.netspec.training import TrainingItems, check_training

INPUT = -1
MAX_TIE_ORDERINGS = 5040
"""At most this many orderings of interchangeable nodes are tried for the canonical form."""


@dataclass(frozen=True)
class Node:
    """One layer spec applied to the outputs of earlier nodes."""

    layer: LayerSpec
    inputs: tuple[int, ...]


def _check_input_shape(shape: Any) -> Shape:
    if (not isinstance(shape, (tuple, list)) or not 1 <= len(shape) <= 3
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise ArchitectureError(
            f"input_shape={shape!r} is invalid: expected (features,), (length, channels) or "
            "(height, width, channels) with positive integer sides")
    return tuple(shape)


def infer_shape(layer: LayerSpec, shapes: list[Shape], where: str) -> Shape:
    """Output shape of ``layer`` on ``shapes``; errors name the node (``where``) and the shapes."""
    low, high = layer.arity
    if len(shapes) < low or (high is not None and len(shapes) > high):
        raise ArchitectureError(f"{where} ({layer.kind}) got {len(shapes)} inputs: expected "
                                f"{low}{'' if high == low else ' or more' if high is None else f'-{high}'}")
    try:
        return layer.output_shape(shapes)
    except ArchitectureError as exc:
        raise ArchitectureError(f"{where}: {exc}") from None


class NetSpec:
    """An immutable DAG of layer specs with its input shape; the last node is the output.

    Build one with :class:`Graph` (which checks shapes as it goes) or directly from nodes, then
    ``validate()``. ``params``, ``flops`` and ``hash`` are analytic and cached.

    ``training`` (optional) holds training settings of this network's own, e.g.
    ``{"learning_rate": 0.003, "batch_size": 64, "optimizer": "sgd"}`` (keys among
    ``evokit.netspec.training.TRAINING_FIELDS``): the trainer uses them in place of the search's
    shared ``TrainingConfig`` values, and they are part of ``hash`` (only when given, so a
    network without them hashes as it always did). :meth:`with_training` sets them.
    """

    _training: TrainingItems = ()  # a class default: NetSpecs pickled before the field existed have none

    def __init__(self, input_shape: Shape, nodes: Iterable[Node], training: Mapping[str, Any] | None = None):
        self.input_shape = _check_input_shape(input_shape)
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self._training = check_training(training)
        if not self.nodes:
            raise ArchitectureError("nodes=() is invalid: a NetSpec needs at least one layer")
        for i, node in enumerate(self.nodes):
            if not isinstance(node.layer, LayerSpec):
                raise ArchitectureError(f"node {i}: layer={node.layer!r} is not a LayerSpec")
            if any(not INPUT <= j < i for j in node.inputs):
                raise ArchitectureError(f"node {i} ({node.layer.kind}): inputs={node.inputs} is invalid: "
                                        f"each input must be {INPUT} (the network input) or an earlier node")

    # -- shapes and costs -------------------------------------------------------------------

    @functools.cached_property
    def shapes(self) -> tuple[Shape, ...]:
        """Output shape of every node; raises ArchitectureError naming the first bad node."""
        out: list[Shape] = []
        for i, node in enumerate(self.nodes):
            ins = [self.input_shape if j == INPUT else out[j] for j in node.inputs]
            out.append(infer_shape(node.layer, ins, f"node {i}"))
        return tuple(out)

    def input_shapes(self, i: int) -> list[Shape]:
        return [self.input_shape if j == INPUT else self.shapes[j] for j in self.nodes[i].inputs]

    @property
    def output_shape(self) -> Shape:
        return self.shapes[-1]

    def validate(self) -> "NetSpec":
        """Check every shape (raise ArchitectureError naming the layer) and return self."""
        self.shapes  # noqa: B018 - computing the shapes is the check
        return self

    @functools.cached_property
    def params(self) -> int:
        """Number of parameters, trainable and not (equals Keras' ``count_params()``)."""
        return sum(n.layer.params(self.input_shapes(i)) for i, n in enumerate(self.nodes))

    @functools.cached_property
    def flops(self) -> int:
        """FLOPs of one forward pass of one sample (see ``evokit.netspec.layers``)."""
        return sum(n.layer.flops(self.input_shapes(i), self.shapes[i]) for i, n in enumerate(self.nodes))

    def __len__(self) -> int:
        return len(self.nodes)

    # -- training settings of its own ---------------------------------------------------------

    @property
    def training(self) -> Mapping[str, Any]:
        """The training settings this network carries (read-only; empty when it has none)."""
        return types.MappingProxyType(dict(self._training))

    def with_training(self, training: Mapping[str, Any] | None) -> "NetSpec":
        """The same layers carrying these training settings (None or ``{}``: none); ConfigError
        naming ``training.<field>`` for a field or value a TrainingConfig would refuse."""
        return NetSpec(self.input_shape, self.nodes, training)

    # -- identity -----------------------------------------------------------------------------

    @property
    def node_keys(self) -> tuple[str, ...]:
        """A key per node naming its layer configuration and, recursively, its inputs back to the
        network input (whose shape is part of the root): equal keys mean an unchanged layer that
        reads unchanged inputs (the canonical hash and weight inheritance both rest on it)."""
        return self._keys

    @functools.cached_property
    def _keys(self) -> tuple[str, ...]:
        """Merkle key of every node: its layer and (sorted, if commutative) input keys."""
        keys: list[str] = []
        root = "input" + json.dumps(self.input_shape)
        for node in self.nodes:
            ins = [root if j == INPUT else keys[j] for j in node.inputs]
            if node.layer.commutative:
                ins.sort()
            text = node.layer.kind + json.dumps(node.layer.key_config(), sort_keys=True) + "|".join(ins)
            keys.append(hashlib.sha256(text.encode()).hexdigest())
        return tuple(keys)

    def _ordered(self, rank: dict[int, int]) -> "NetSpec":
        """The output's ancestors in post-order; inputs of merges sorted by (key, rank)."""
        keys = self._keys
        order: list[int] = []
        seen: set[int] = set()

        def inputs_of(i: int) -> list[int]:
            ins = list(self.nodes[i].inputs)
            if self.nodes[i].layer.commutative:
                ins.sort(key=lambda j: ("", 0) if j == INPUT else (keys[j], rank[j]))
            return ins

        stack: list[tuple[int, bool]] = [(len(self.nodes) - 1, False)]
        while stack:
            i, expanded = stack.pop()
            if i in seen:
                continue
            if expanded:
                seen.add(i)
                order.append(i)
                continue
            stack.append((i, True))
            stack.extend((j, False) for j in reversed(inputs_of(i)) if j != INPUT and j not in seen)
        new_index = {old: new for new, old in enumerate(order)} | {INPUT: INPUT}
        nodes = [Node(self.nodes[i].layer, tuple(new_index[j] for j in inputs_of(i))) for i in order]
        return NetSpec(self.input_shape, nodes, self.training)

    def _identity(self) -> str:
        return json.dumps([self.input_shape, [(n.layer.kind, n.layer.key_config(), n.inputs) for n in self.nodes]],
                          sort_keys=True)

    @functools.cached_property
    def _canonical(self) -> "NetSpec":
        """The ordering of the output's ancestors with the smallest serialisation.

        Distinct nodes with equal Merkle keys (the same layer on the same inputs) are
        interchangeable, so every ordering of each such group is tried and the smallest result
        kept: isomorphic networks then serialise identically. Such ties are rare and small.
        """
        ancestors = _ancestors(self.nodes, len(self.nodes) - 1)
        groups: dict[str, list[int]] = {}
        for i in sorted(ancestors):
            groups.setdefault(self._keys[i], []).append(i)
        tied = [g for g in groups.values() if len(g) > 1]
        best: tuple[str, NetSpec] | None = None
        for combo in itertools.islice(itertools.product(*(itertools.permutations(g) for g in tied)),
                                      MAX_TIE_ORDERINGS):
            rank = {i: r for group in combo for r, i in enumerate(group)}
            spec = self._ordered(rank | {i: 0 for i in ancestors if i not in rank})
            text = spec._identity()
            if best is None or text < best[0]:
                best = (text, spec)
        assert best is not None
        return best[1]

    def canonical(self) -> "NetSpec":
        """The same network in canonical form: what ``hash`` identifies, and what gets built."""
        return self._canonical

    @functools.cached_property
    def hash(self) -> str:
        """Canonical hash: equal networks give equal hashes whatever genotype produced them.

        Dead branches are ignored, the inputs of commutative merges (add, concat) are ordered,
        equivalent spellings of a layer (kernel ``3`` or ``(3, 3)``) are equal, and shared nodes
        stay distinct from duplicated ones. Training settings the network carries are part of
        it; a network without them hashes as before they existed.
        """
        text = self._canonical._identity()
        if self._training:
            text += "|training" + json.dumps(self._training)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NetSpec) and self.hash == other.hash

    def __hash__(self) -> int:
        return hash(self.hash)

    # -- serialisation and display ------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data ``from_dict`` reads back (``training`` only when the network has some)."""
        data: dict[str, Any] = {
            "input_shape": list(self.input_shape),
            "nodes": [{"kind": n.layer.kind, "config": n.layer.config(), "inputs": list(n.inputs)}
                      for n in self.nodes]}
        if self._training:
            data["training"] = dict(self._training)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "NetSpec":
        """The network ``to_dict`` wrote (a GANSpec when it holds a discriminator: see
        :data:`SPEC_READERS`)."""
        if cls is NetSpec:
            for key, read in SPEC_READERS.items():
                if key in data:
                    return read(data)
        nodes = [Node(layer_from_config(n["kind"], n["config"]), tuple(n["inputs"])) for n in data["nodes"]]
        return cls(tuple(data["input_shape"]), nodes, data.get("training"))

    def rows(self) -> list[dict[str, Any]]:
        """One row per node: index, layer description, inputs, output shape, parameters."""
        return [{"index": i, "layer": n.layer.describe(),
                 "inputs": ["input" if j == INPUT else j for j in n.inputs],
                 "output_shape": self.shapes[i], "params": n.layer.params(self.input_shapes(i))}
                for i, n in enumerate(self.nodes)]

    def summary(self) -> str:
        """A layer table like Keras' ``model.summary()``, computed without Keras."""
        lines = [f"input {self.input_shape}"]
        for r in self.rows():
            usual = ["input"] if r["index"] == 0 else [r["index"] - 1]
            src = "" if r["inputs"] == usual else f" <- {', '.join(map(str, r['inputs']))}"
            lines.append(f"{r['index']:>3}  {r['layer']:<34} {str(r['output_shape']):<16} "
                         f"{r['params']:>9,}{src}")
        lines.append(f"params: {self.params:,}   FLOPs: {self.flops:,}")
        if self._training:
            lines.append("training: " + ", ".join(f"{k}={v}" for k, v in self._training))
        return "\n".join(lines)

    def describe(self) -> str:
        """One line: the layers in order, e.g. ``conv2d(8, 3x3, relu) > maxpool(2x2) > ...``."""
        return " > ".join(n.layer.describe() for n in self.nodes)

    def __repr__(self) -> str:
        return f"NetSpec(input_shape={self.input_shape}, layers={len(self)}, params={self.params:,})"


SPEC_READERS: dict[str, Callable[[dict[str, Any]], NetSpec]] = {}
"""Readers of ``to_dict`` data of NetSpec subclasses, by a key only their data holds: the
subclass's module registers its reader (``"discriminator"``: :mod:`evokit.netspec.pair`)."""


class Graph:
    """Incremental NetSpec builder that infers and checks each shape as a node is added.

    ``x = g.add(Conv2D(8), g.input)`` returns the new node's handle; ``g.finish(x)`` keeps only
    the ancestors of the output and returns the NetSpec. ``g.shape(x)`` is known at once, so
    encodings can make repair decisions while they decode.
    """

    def __init__(self, input_shape: Shape):
        self.input_shape = _check_input_shape(input_shape)
        self.input = INPUT
        self._nodes: list[Node] = []
        self._shapes: list[Shape] = []

    def shape(self, handle: int) -> Shape:
        return self.input_shape if handle == INPUT else self._shapes[handle]

    def add(self, layer: LayerSpec, *inputs: int) -> int:
        if not isinstance(layer, LayerSpec):
            raise ArchitectureError(f"layer={layer!r} is invalid: expected a LayerSpec")
        for j in inputs:
            if isinstance(j, bool) or not isinstance(j, int) or not (j == INPUT or 0 <= j < len(self._nodes)):
                raise ArchitectureError(f"inputs={inputs!r} is invalid: each input must be g.input or a handle "
                                        f"returned by g.add (0..{len(self._nodes) - 1})")
        shape = infer_shape(layer, [self.shape(j) for j in inputs], f"node {len(self._nodes)}")
        self._nodes.append(Node(layer, tuple(inputs)))
        self._shapes.append(shape)
        return len(self._nodes) - 1

    def finish(self, output: int | None = None) -> NetSpec:
        """The NetSpec whose output is ``output`` (default: the last node added)."""
        output = len(self._nodes) - 1 if output is None else output
        if output == INPUT or not self._nodes:
            raise ArchitectureError("output=input is invalid: a NetSpec needs at least one layer")
        if not isinstance(output, int) or not 0 <= output < len(self._nodes):
            raise ArchitectureError(f"output={output!r} is invalid: expected a handle returned by g.add")
        keep = sorted(_ancestors(self._nodes, output))
        index = {old: new for new, old in enumerate(keep)} | {INPUT: INPUT}
        nodes = [Node(self._nodes[i].layer, tuple(index[j] for j in self._nodes[i].inputs)) for i in keep]
        return NetSpec(self.input_shape, nodes)



def _ancestors(nodes: "list[Node] | tuple[Node, ...]", output: int) -> set[int]:
    """Indices of ``output`` and every node it reads from, directly or not."""
    seen, stack = set(), [output]
    while stack:
        i = stack.pop()
        if i != INPUT and i not in seen:
            seen.add(i)
            stack.extend(nodes[i].inputs)
    return seen
