"""GP-tree encoding (NASGP-Net / CGP-CNN style): a DEAP strongly typed tree of network builders.

A genotype is a ``deap.gp.PrimitiveTree`` over a typed primitive set. Values of type ``Net`` are
network fragments, functions ``(graph, handle) -> handle`` that add layers to a NetSpec
:class:`~evokit.netspec.Graph`; ``Filters``, ``Kernel`` and ``Units`` are hyper-parameters, given
by fixed-value terminals such as ``f16``, ``k3``, ``u64``::

    conv(Net, Filters, Kernel) -> Net   the child, then a convolution (Conv2D on images, Conv1D on
                                        sequences; skipped on a flat input)
    pool(Net) -> Net                    the child, then a 2x2 max pooling (dropped if it won't fit)
    dense(Net, Units) -> Net            the child, flattened if needed, then a dense layer
    seq(Net, Net) -> Net                the first fragment, then the second on its output
    res(Net, Net) -> Net                both fragments on the same input, added (residual); sizes
                                        pooled down and widths projected to agree
    cat(Net, Net) -> Net                both fragments on the same input, concatenated; sizes
                                        pooled down to agree
    inp: Net                            the input unchanged

so ``res(conv(inp, f8, k3), inp)`` is a convolution with a residual connection around it. Every
tree decodes: impossible shapes are repaired by ``add_pool`` and ``merge``, never rejected.

Hyper-parameters are fixed terminals, not DEAP ephemeral constants: ``addEphemeralConstant``
creates classes inside ``deap.gp`` at run time, which a spawned worker doesn't have, so trees
holding them would not unpickle there. Here a tree holds only DEAP ``Primitive``/``Terminal``
objects whose types are this module's classes, so it pickles in any process, and it decodes with
any encoding object whose primitive set has its names.
"""
from __future__ import annotations

import copy
import functools
import operator
import random as _random
import re
from collections import Counter
from typing import Any, Callable, Iterable

from deap import base, gp

from evokit.encodings.base import Encoding, add_head, rng_or_global
from evokit.errors import ConfigError, GenotypeError, check_choices, check_int
from evokit.netspec import Add, Concat, Conv1D, Conv2D, Dense, Graph, NetSpec, Pool, add_flatten, add_pool, merge

MAX_HEIGHT_LIMIT = 90
"""Largest allowed ``max_height``: DEAP compiles a tree by evaluating its nested-call string, and
Python's parser refuses expressions nested much deeper (DEAP's own documented limit)."""

Fragment = Callable[[Graph, int], int]
"""A network fragment: adds layers after handle ``x`` of a Graph and returns its output handle."""


# -- types of the strongly typed primitive set --------------------------------------------------

class Net:
    """GP type of network fragments."""


class Filters:
    """GP type of a convolution's number of filters."""


class Kernel:
    """GP type of a convolution's kernel size."""


class Units:
    """GP type of a dense layer's number of units."""


# -- the primitives: each returns a fragment -------------------------------------------------------

def _inp(g: Graph, x: int) -> int:
    return x


def _conv(child: Fragment, filters: int, kernel: int) -> Fragment:
    def fragment(g: Graph, x: int) -> int:
        h = child(g, x)
        rank = len(g.shape(h))
        if rank == 1:  # a flat input has nothing to convolve
            return h
        return g.add((Conv2D if rank == 3 else Conv1D)(filters, kernel), h)
    return fragment


def _pool(child: Fragment) -> Fragment:
    def fragment(g: Graph, x: int) -> int:
        return add_pool(g, Pool("max", 2), child(g, x))
    return fragment


def _dense(child: Fragment, units: int) -> Fragment:
    def fragment(g: Graph, x: int) -> int:
        return g.add(Dense(units), add_flatten(g, child(g, x)))
    return fragment


def _seq(first: Fragment, second: Fragment) -> Fragment:
    def fragment(g: Graph, x: int) -> int:
        return second(g, first(g, x))
    return fragment


def _merged(layer: Any, left: Fragment, right: Fragment) -> Fragment:
    def fragment(g: Graph, x: int) -> int:
        # Two branches that add nothing (e.g. ``res(inp, inp)``) give one input: it passes through.
        inputs = list(dict.fromkeys([left(g, x), right(g, x)]))
        return merge(g, layer, inputs)
    return fragment


def _res(left: Fragment, right: Fragment) -> Fragment:
    return _merged(Add(), left, right)


def _cat(left: Fragment, right: Fragment) -> Fragment:
    return _merged(Concat(), left, right)


PRIMITIVES = ("conv", "pool", "dense", "seq", "res", "cat")
"""Names of the Net-building primitives (the terminal ``inp`` is the input itself)."""


@functools.lru_cache(maxsize=None)
def primitive_set(filters: tuple[int, ...], kernel_sizes: tuple[int, ...],
                  units: tuple[int, ...]) -> gp.PrimitiveSetTyped:
    """The typed primitive set for these hyper-parameter choices (one per distinct choice, cached:
    encodings with equal parameters share it)."""
    pset = gp.PrimitiveSetTyped("tree", [], Net)
    pset.addPrimitive(_conv, [Net, Filters, Kernel], Net, name="conv")
    pset.addPrimitive(_pool, [Net], Net, name="pool")
    pset.addPrimitive(_dense, [Net, Units], Net, name="dense")
    pset.addPrimitive(_seq, [Net, Net], Net, name="seq")
    pset.addPrimitive(_res, [Net, Net], Net, name="res")
    pset.addPrimitive(_cat, [Net, Net], Net, name="cat")
    pset.addTerminal(_inp, Net, name="inp")
    for prefix, type_, values in (("f", Filters, filters), ("k", Kernel, kernel_sizes), ("u", Units, units)):
        for value in values:
            pset.addTerminal(value, type_, name=f"{prefix}{value}")
    return pset


# -- genotype ------------------------------------------------------------------------------------

class TreeGenome(gp.PrimitiveTree):
    """A Tree genotype: a DEAP ``PrimitiveTree`` (prefix list of primitives and terminals).

    Its ``fitness`` (set by the toolbox) is an attribute, not a node: equality is DEAP's tree
    equality. It pickles with its nodes (whose types are this module's classes), so it travels
    to spawned workers as is.
    """

    def __init__(self, content: Iterable[Any] = ()):
        super().__init__(content)

    def __repr__(self) -> str:
        return f"TreeGenome({str(self)!r})"


# -- tree generation from an explicit rng ----------------------------------------------------------

def generate(pset: gp.PrimitiveSetTyped, min_: int, max_: int, condition: Callable[[int, int], bool],
             type_: Any = None, rng: Any = None) -> list[Any]:
    """``deap.gp.generate`` drawing from ``rng`` (Python's ``random`` by default, as DEAP).

    Where the condition asks for a terminal (or a primitive) of a type that has none, the other
    kind is used: hyper-parameter types have only terminals, so they end a branch at any depth.
    """
    rng = rng_or_global(rng)
    type_ = pset.ret if type_ is None else type_
    expr: list[Any] = []
    height = rng.randint(min_, max_)
    stack = [(0, type_)]
    while stack:
        depth, type_ = stack.pop()
        terminals, primitives = pset.terminals.get(type_, []), pset.primitives.get(type_, [])
        if not terminals and not primitives:
            raise ConfigError(f"type_={type_!r} is invalid: the primitive set has nothing of this type")
        if (condition(height, depth) and terminals) or not primitives:
            expr.append(rng.choice(terminals))
        else:
            prim = rng.choice(primitives)
            expr.append(prim)
            stack.extend((depth + 1, arg) for arg in reversed(prim.args))
    return expr


def gen_full(pset: gp.PrimitiveSetTyped, min_: int, max_: int, type_: Any = None, rng: Any = None) -> list[Any]:
    """``deap.gp.genFull`` from ``rng``: every Net branch ends at the same drawn height."""
    return generate(pset, min_, max_, lambda height, depth: depth == height, type_, rng)


def gen_grow(pset: gp.PrimitiveSetTyped, min_: int, max_: int, type_: Any = None, rng: Any = None) -> list[Any]:
    """``deap.gp.genGrow`` from ``rng``: branches end at the drawn height or earlier, at random
    (with the share of terminals among the nodes of the tree's own type)."""
    source = rng_or_global(rng)
    type_ = pset.ret if type_ is None else type_
    # DEAP stops with probability pset.terminalRatio, counted over all types; in a typed set the
    # many hyper-parameter terminals would end most Net branches at once. The ratio of the Net
    # type itself (1 terminal, 6 primitives) grows networks, not just ``inp``.
    n_terms, n_prims = len(pset.terminals.get(type_, [])), len(pset.primitives.get(type_, []))
    ratio = n_terms / max(1, n_terms + n_prims)

    def condition(height: int, depth: int) -> bool:
        return depth == height or (depth >= min_ and source.random() < ratio)
    return generate(pset, min_, max_, condition, type_, source)


def gen_half_and_half(pset: gp.PrimitiveSetTyped, min_: int, max_: int, type_: Any = None,
                      rng: Any = None) -> list[Any]:
    """``deap.gp.genHalfAndHalf`` from ``rng``: a full or a grown tree, with equal chance."""
    source = rng_or_global(rng)
    method = source.choice((gen_grow, gen_full))
    return method(pset, min_, max_, type_, source)


# -- variation (DEAP operators; mutation mixes two of them) ----------------------------------------

def mutTree(individual: Any, expr: Callable[..., list[Any]], pset: gp.PrimitiveSetTyped,
            node_replacement: float = 0.5) -> tuple[Any]:
    """With probability ``node_replacement`` DEAP's ``mutNodeReplacement`` (one primitive or
    terminal swapped for another of the same signature: ``seq`` <-> ``res`` <-> ``cat``, ``f8``
    -> ``f32``), else ``mutUniform`` (a random subtree regrown by ``expr``)."""
    if _random.random() < node_replacement:
        return gp.mutNodeReplacement(individual, pset=pset)
    return gp.mutUniform(individual, expr=expr, pset=pset)


def cxOnePointTyped(ind1: Any, ind2: Any) -> tuple[Any, Any]:
    """DEAP's ``gp.cxOnePoint`` for strongly typed trees, made reproducible: the subtree type to
    exchange is drawn from the common types in a fixed (name) order. DEAP draws it from a ``set``
    of classes, whose order follows their memory addresses, so the same seed gave different
    children in different processes."""
    if len(ind1) < 2 or len(ind2) < 2:
        return ind1, ind2
    types1: dict[Any, list[int]] = {}
    types2: dict[Any, list[int]] = {}
    for types, ind in ((types1, ind1), (types2, ind2)):
        for idx, node in enumerate(ind[1:], 1):
            types.setdefault(node.ret, []).append(idx)
    common = sorted(set(types1) & set(types2), key=lambda t: (getattr(t, "__module__", ""), getattr(t, "__qualname__",
                                                                                                      str(t))))
    if common:
        type_ = _random.choice(common)
        index1, index2 = _random.choice(types1[type_]), _random.choice(types2[type_])
        slice1, slice2 = ind1.searchSubtree(index1), ind2.searchSubtree(index2)
        ind1[slice1], ind2[slice2] = ind2[slice2], ind1[slice1]
    return ind1, ind2


class HeightLimited:
    """A DEAP tree operator under ``gp.staticLimit(key=height, max_value=max_height)``: a child
    taller than the limit is replaced by a copy of a parent, drawn at random.

    It returns DEAP's tuple, never the same object twice (``staticLimit`` may put one kept parent
    copy in both places, and two population slots must not alias one individual). Unlike a
    ``toolbox.decorate``'d operator it is a plain picklable object, so a toolbox holding it can
    be sent to a spawned worker. Subclasses limit another measure (``key``, ``limit_name``).
    """

    key = staticmethod(operator.attrgetter("height"))
    limit_name = "max_height"

    def __init__(self, func: Callable[..., Any], limit: int):
        self.func = func
        self.limit = limit

    def __call__(self, *individuals: Any, **kwargs: Any) -> tuple[Any, ...]:
        limited = gp.staticLimit(key=self.key, max_value=self.limit)(self.func)
        out: list[Any] = []
        for ind in limited(*individuals, **kwargs):
            out.append(copy.deepcopy(ind) if any(ind is o for o in out) else ind)
        return tuple(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({getattr(self.func, '__name__', self.func)!r}, {self.limit_name}={self.limit})"


# -- the encoding ----------------------------------------------------------------------------------

class Tree(Encoding):
    """Strongly typed GP trees of network-building primitives (see the module docstring).

    Args:
        min_depth, max_depth: heights of the initial trees (DEAP's ramped half-and-half).
        max_height: bloat limit: ``mate`` and ``mutate`` never return a taller tree (a child
            over the limit is replaced by a copy of a parent, ``gp.staticLimit``).
        filters, kernel_sizes: the choices of a convolution's filters and kernel size.
        units: the choices of a dense layer's units.
    """

    name = "tree"

    def __init__(self, min_depth: int = 1, max_depth: int = 4, max_height: int = 8,
                 filters: tuple[int, ...] = (4, 8, 16, 32), kernel_sizes: tuple[int, ...] = (3, 5),
                 units: tuple[int, ...] = (16, 32, 64)):
        self.min_depth = check_int("min_depth", min_depth, minimum=0)
        self.max_depth = check_int("max_depth", max_depth, minimum=max(1, min_depth))
        self.max_height = check_int("max_height", max_height, minimum=max_depth, maximum=MAX_HEIGHT_LIMIT)
        self.filters = check_choices("filters", filters, distinct=True)
        self.kernel_sizes = check_choices("kernel_sizes", kernel_sizes, distinct=True)
        self.units = check_choices("units", units, distinct=True)

    @property
    def pset(self) -> gp.PrimitiveSetTyped:
        """This encoding's DEAP primitive set (shared by encodings with equal choices)."""
        return primitive_set(self.filters, self.kernel_sizes, self.units)

    def random(self, rng: Any = None) -> TreeGenome:
        return TreeGenome(gen_half_and_half(self.pset, self.min_depth, self.max_depth, rng=rng_or_global(rng)))

    def from_string(self, text: str) -> TreeGenome:
        """Parse a tree written as ``str(tree)`` shows it, e.g. ``"res(conv(inp, f8, k3), inp)"``.

        Unlike ``gp.PrimitiveTree.from_string`` nothing is evaluated: every token must be a name
        of this primitive set. Raises GenotypeError naming ``genotype`` otherwise.
        """
        if not isinstance(text, str):
            raise GenotypeError(f"genotype={text!r} is invalid: expected a tree string such as "
                                "'res(conv(inp, f8, k3), inp)'")
        mapping = self.pset.mapping
        nodes = []
        for token in re.split(r"[\s(),]+", text):
            if not token:
                continue
            if token not in mapping:
                raise GenotypeError(f"genotype={text!r} is invalid: {token!r} is not one of this encoding's "
                                    f"names ({', '.join(sorted(mapping))})")
            nodes.append(mapping[token])
        tree = TreeGenome(nodes)
        self.check(tree)
        if re.sub(r"\s", "", str(tree)) != re.sub(r"\s", "", text):
            raise GenotypeError(f"genotype={text!r} is invalid: expected exactly the form {str(tree)!r}")
        return tree

    def check(self, genotype: Any) -> None:
        """Raise GenotypeError naming ``genotype`` unless it is a well-typed, complete tree of
        this encoding's primitive set."""
        if not isinstance(genotype, gp.PrimitiveTree):
            raise GenotypeError(f"genotype={type(genotype).__name__} is invalid: expected a TreeGenome "
                                "(a deap.gp.PrimitiveTree of this encoding's primitives)")
        mapping = self.pset.mapping
        expected = [Net]
        for i, node in enumerate(genotype):
            name = getattr(node, "name", None)
            if not expected:
                raise GenotypeError(f"genotype={_show(genotype)} is invalid: node {i} ({name}) is past the "
                                    "end of the tree")
            if not isinstance(name, str) or mapping.get(name) != node:
                raise GenotypeError(f"genotype={_show(genotype)} is invalid: node {i} ({name!r}) is not a "
                                    f"primitive or terminal of this encoding ({', '.join(sorted(mapping))})")
            want = expected.pop()
            if node.ret is not want:
                raise GenotypeError(f"genotype={_show(genotype)} is invalid: node {i} ({name}) gives "
                                    f"{node.ret.__name__} where {want.__name__} is expected")
            expected.extend(reversed(getattr(node, "args", ())))
        if expected:
            raise GenotypeError(f"genotype={_show(genotype)} is invalid: the tree is incomplete "
                                f"({len(expected)} argument(s) missing)")

    def decode(self, genotype: Any, input_shape: tuple[int, ...], n_outputs: int,
               task: str = "classification") -> NetSpec:
        self.check(genotype)
        # gp.compile evaluates str(genotype) in the primitive set's context (no builtins). That
        # string is made only of this encoding's own primitive and terminal names, just checked:
        # no user text reaches eval. With no arguments, compiling returns the root's fragment.
        fragment = gp.compile(genotype, self.pset)
        g = Graph(input_shape)
        return add_head(g, fragment(g, g.input), n_outputs, task)

    def register(self, toolbox: base.Toolbox) -> None:
        """``mate``: ``cxOnePointTyped`` (DEAP's ``gp.cxOnePoint``, reproducible; swaps subtrees of
        the same type); ``mutate``: ``mutTree`` (``gp.mutNodeReplacement`` or ``gp.mutUniform``
        with subtrees of height 0-2); both limited to ``max_height`` by ``gp.staticLimit``."""
        toolbox.register("mate", HeightLimited(cxOnePointTyped, self.max_height))
        toolbox.register("mutate", HeightLimited(mutTree, self.max_height),
                         expr=functools.partial(gen_full, min_=0, max_=2), pset=self.pset)

    def distance(self, a: Any, b: Any) -> float:
        """Number of subtrees (counted with multiplicity) found in one tree and not the other.

        0 exactly for equal trees (the whole tree is one of its subtrees); changing one leaf
        counts that leaf and each of its ancestors' subtrees, in both trees.
        """
        sa, sb = _subtrees(a), _subtrees(b)
        return float(sum(((sa - sb) + (sb - sa)).values()))

    def describe(self, genotype: Any) -> str:
        return str(genotype)

    def to_json(self, genotype: Any) -> str:
        return str(genotype)

    def from_json(self, data: str) -> TreeGenome:
        return self.from_string(data)


def _subtrees(tree: Iterable[Any]) -> Counter[str]:
    """Every subtree's string (as ``PrimitiveTree.__str__`` builds them), counted."""
    found: Counter[str] = Counter()
    stack: list[tuple[Any, list[str]]] = []
    for node in tree:
        stack.append((node, []))
        while stack and len(stack[-1][1]) == stack[-1][0].arity:
            prim, args = stack.pop()
            text = prim.format(*args)
            found[text] += 1
            if stack:
                stack[-1][1].append(text)
    return found


def _show(tree: Any) -> str:
    try:
        return repr(str(tree))
    except Exception:  # a malformed tree may not even print
        return type(tree).__name__



