"""Layer specs: what one NetSpec node computes, without any framework.

Each spec is a frozen dataclass that validates its arguments in its constructor (like a Keras
layer's ``__init__``) and knows, for given input shapes, its output shape, its parameter count and
its FLOPs. Shapes exclude the batch axis: ``(features,)``, ``(length, channels)`` or
``(height, width, channels)``.

FLOPs count two per multiply-accumulate, plus one per output element for biases, activations,
pooling windows' comparisons/additions and batch normalisation.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from evokit.errors import ArchitectureError, ConfigError, check_choice, check_float, check_int

Shape = tuple[int, ...]

ACTIVATIONS = ("relu", "elu", "selu", "gelu", "swish", "leaky_relu", "tanh", "sigmoid", "linear",
               "softmax")
POOL_KINDS = ("max", "avg")
PADDINGS = ("same", "valid")
INTERPOLATIONS = ("nearest", "bilinear")


def _pair(field: str, value: Any) -> tuple[int, ...]:
    """Normalise an int or a tuple of ints (one per spatial axis) to a tuple, validated."""
    if isinstance(value, (list, tuple)):
        if not 1 <= len(value) <= 2:
            raise ConfigError(f"{field}={value!r} is invalid: expected an int or 1-2 ints")
        return tuple(check_int(field, v, minimum=1) for v in value)
    return (check_int(field, value, minimum=1),)


def _spatial(values: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """Broadcast a 1-tuple to ``rank`` spatial axes."""
    return values * rank if len(values) == 1 else values


def _compact(values: tuple[int, ...]) -> int | tuple[int, ...]:
    """One int when every axis has the same value: ``3`` and ``(3, 3)`` are the same window."""
    return values[0] if len(set(values)) == 1 else values


class LayerSpec:
    """Base class of all layer specs: one node's computation, independent of any framework.

    Subclasses are frozen dataclasses. ``arity`` is the (min, max) number of inputs; ``None``
    means unbounded. Subclasses implement ``output_shape`` and, when they have weights or do
    arithmetic, ``params`` and ``flops``.
    """

    kind: ClassVar[str] = "layer"
    arity: ClassVar[tuple[int, int | None]] = (1, 1)
    commutative: ClassVar[bool] = False

    def output_shape(self, shapes: list[Shape]) -> Shape:
        raise NotImplementedError

    def params(self, shapes: list[Shape]) -> int:
        return 0

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return 0

    def config(self) -> dict[str, Any]:
        """The constructor arguments, JSON-serialisable."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def key_config(self) -> dict[str, Any]:
        """``config()`` with equivalent spellings made equal (what the canonical hash reads)."""
        return self.config()

    def describe(self) -> str:
        """Short human-readable form, e.g. ``conv2d(16, 3x3, relu)``."""
        args = ", ".join(f"{k}={v}" for k, v in self.config().items())
        return f"{self.kind}({args})"

    def _fail(self, shapes: list[Shape], allowed: str) -> ArchitectureError:
        got = shapes[0] if len(shapes) == 1 else shapes
        return ArchitectureError(f"{self.kind} cannot take input shape {got}: {allowed}")

    def _expect_rank(self, shapes: list[Shape], ranks: tuple[int, ...], what: str) -> Shape:
        shape = shapes[0]
        if len(shape) not in ranks:
            raise self._fail(shapes, f"expected {what}")
        return shape


@dataclass(frozen=True)
class Dense(LayerSpec):
    """Fully connected layer on a flat input ``(features,)``."""

    units: int
    activation: str = "relu"
    use_bias: bool = True
    kind: ClassVar[str] = "dense"

    def __post_init__(self) -> None:
        check_int("units", self.units, minimum=1)
        check_choice("activation", self.activation, ACTIVATIONS)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        self._expect_rank(shapes, (1,), "a flat input (features,); add a Flatten or GlobalPool first")
        return (self.units,)

    def params(self, shapes: list[Shape]) -> int:
        return shapes[0][0] * self.units + (self.units if self.use_bias else 0)

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return 2 * shapes[0][0] * self.units + self.units * (int(self.use_bias) + 1)

    def describe(self) -> str:
        return f"dense({self.units}, {self.activation})"


@dataclass(frozen=True)
class _Conv(LayerSpec):
    filters: int
    kernel_size: int | tuple[int, ...] = 3
    strides: int | tuple[int, ...] = 1
    padding: str = "same"
    activation: str = "relu"
    use_bias: bool = True
    rank: ClassVar[int] = 2

    def __post_init__(self) -> None:
        check_int("filters", self.filters, minimum=1)
        for name in ("kernel_size", "strides"):
            if len(_pair(name, getattr(self, name))) not in (1, self.rank):
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid: {self.kind} takes one int or "
                                  f"{self.rank} ints")
        check_choice("padding", self.padding, PADDINGS)
        check_choice("activation", self.activation, ACTIVATIONS)

    @property
    def kernel(self) -> tuple[int, ...]:
        return _spatial(_pair("kernel_size", self.kernel_size), self.rank)

    @property
    def stride(self) -> tuple[int, ...]:
        return _spatial(_pair("strides", self.strides), self.rank)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (self.rank + 1,),
                                  "(height, width, channels)" if self.rank == 2 else "(length, channels)")
        sides = []
        for side, k, s in zip(shape[:-1], self.kernel, self.stride):
            out = math.ceil(side / s) if self.padding == "same" else (side - k) // s + 1
            if out < 1:
                raise self._fail(shapes, f"kernel {k} with padding 'valid' is larger than the side {side}")
            sides.append(out)
        return (*sides, self.filters)

    def params(self, shapes: list[Shape]) -> int:
        return math.prod(self.kernel) * shapes[0][-1] * self.filters + (self.filters if self.use_bias else 0)

    def key_config(self) -> dict[str, Any]:
        return {**self.config(), "kernel_size": _compact(self.kernel), "strides": _compact(self.stride)}

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        macs = math.prod(self.kernel) * shapes[0][-1]
        return math.prod(out) * (2 * macs + int(self.use_bias) + 1)

    def describe(self) -> str:
        k = "x".join(map(str, self.kernel))
        s = "" if set(self.stride) == {1} else f", stride {'x'.join(map(str, self.stride))}"
        return f"{self.kind}({self.filters}, {k}{s}, {self.activation})"


@dataclass(frozen=True)
class Conv2D(_Conv):
    """2-D convolution on ``(height, width, channels)``."""

    kind: ClassVar[str] = "conv2d"
    rank: ClassVar[int] = 2


@dataclass(frozen=True)
class Conv1D(_Conv):
    """1-D convolution on ``(length, channels)``."""

    kind: ClassVar[str] = "conv1d"
    rank: ClassVar[int] = 1


@dataclass(frozen=True)
class SeparableConv2D(_Conv):
    """Depthwise separable 2-D convolution (one ``kernel_size`` filter per input channel, then a
    1x1 convolution to ``filters``): the cheap convolution of MobileNets and NASGP-Net's cells."""

    kind: ClassVar[str] = "separable_conv2d"
    rank: ClassVar[int] = 2

    def params(self, shapes: list[Shape]) -> int:
        channels = shapes[0][-1]
        return math.prod(self.kernel) * channels + channels * self.filters + (self.filters if self.use_bias else 0)

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        channels, pixels = shapes[0][-1], math.prod(out[:-1])
        depthwise = 2 * math.prod(self.kernel) * channels * pixels
        return depthwise + math.prod(out) * (2 * channels + int(self.use_bias) + 1)


@dataclass(frozen=True)
class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("up-convolution"): each side grows by ``strides`` ('same'
    padding) or to ``(side - 1) * strides + kernel`` ('valid'); U-Nets' learned upsampling."""

    kernel_size: int | tuple[int, ...] = 2
    strides: int | tuple[int, ...] = 2
    kind: ClassVar[str] = "conv2d_transpose"
    rank: ClassVar[int] = 2

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (3,), "(height, width, channels)")
        sides = [side * s if self.padding == "same" else (side - 1) * s + max(k, s)
                 for side, k, s in zip(shape[:-1], self.kernel, self.stride)]
        return (*sides, self.filters)

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        macs = math.prod(shapes[0]) * math.prod(self.kernel) * self.filters  # every input pixel spreads
        return 2 * macs + math.prod(out) * (int(self.use_bias) + 1)


@dataclass(frozen=True)
class Upsample(LayerSpec):
    """Upsampling of ``(height, width, channels)`` by whole factors, without weights: ``nearest``
    repeats pixels, ``bilinear`` interpolates (Keras's ``UpSampling2D``)."""

    size: int | tuple[int, ...] = 2
    interpolation: str = "nearest"
    kind: ClassVar[str] = "upsample"

    def __post_init__(self) -> None:
        if len(_pair("size", self.size)) not in (1, 2):
            raise ConfigError(f"size={self.size!r} is invalid: expected one int or 2 ints")
        check_choice("interpolation", self.interpolation, INTERPOLATIONS)

    @property
    def factors(self) -> tuple[int, ...]:
        return _spatial(_pair("size", self.size), 2)

    def key_config(self) -> dict[str, Any]:
        return {"size": _compact(self.factors), "interpolation": self.interpolation}

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (3,), "(height, width, channels)")
        return (*(side * f for side, f in zip(shape[:-1], self.factors)), shape[-1])

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        """One per output element to place it (nearest), four to weigh its neighbours (bilinear)."""
        return math.prod(out) * (1 if self.interpolation == "nearest" else 4)

    def describe(self) -> str:
        return f"upsample({'x'.join(map(str, self.factors))}, {self.interpolation})"


@dataclass(frozen=True)
class Pool(LayerSpec):
    """Max or average pooling ('valid' padding) over the spatial axes of a 1-D or 2-D input."""

    pool: str = "max"
    size: int | tuple[int, ...] = 2
    strides: int | tuple[int, ...] | None = None
    kind: ClassVar[str] = "pool"

    def __post_init__(self) -> None:
        check_choice("pool", self.pool, POOL_KINDS)
        _pair("size", self.size)
        if self.strides is not None:
            _pair("strides", self.strides)

    def window(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The (pool size, strides) per spatial axis for an input of ``rank`` spatial axes."""
        size = _spatial(_pair("size", self.size), rank)
        stride = size if self.strides is None else _spatial(_pair("strides", self.strides), rank)
        return size, stride

    def key_config(self) -> dict[str, Any]:
        size = _pair("size", self.size)
        strides = size if self.strides is None else _pair("strides", self.strides)
        return {"pool": self.pool, "size": _compact(size), "strides": _compact(strides)}

    def fits(self, shape: Shape) -> bool:
        """Whether this pooling leaves every side of ``shape`` at least 1."""
        if len(shape) not in (2, 3):
            return False
        size, _ = self.window(len(shape) - 1)
        return all(side >= k for side, k in zip(shape[:-1], size))

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (2, 3), "(length, channels) or (height, width, channels)")
        for name in ("size", "strides"):
            value = getattr(self, name)
            if isinstance(value, (tuple, list)) and len(value) not in (1, len(shape) - 1):
                raise self._fail(shapes, f"{name}={value!r} has {len(value)} sides but the input has "
                                         f"{len(shape) - 1} spatial axes")
        size, stride = self.window(len(shape) - 1)
        sides = []
        for side, k, s in zip(shape[:-1], size, stride):
            if side < k:
                raise self._fail(shapes, f"pool size {k} is larger than the side {side}")
            sides.append((side - k) // s + 1)
        return (*sides, shape[-1])

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        size, _ = self.window(len(out) - 1)
        return math.prod(out) * math.prod(size)

    def describe(self) -> str:
        config = self.key_config()
        text = {k: v if isinstance(v, int) else "x".join(map(str, v)) for k, v in config.items() if k != "pool"}
        stride = "" if config["strides"] == config["size"] else f", stride {text['strides']}"
        return f"{self.pool}pool({text['size']}{stride})"


@dataclass(frozen=True)
class GlobalPool(LayerSpec):
    """Global max or average pooling: ``(..., channels) -> (channels,)``."""

    pool: str = "avg"
    kind: ClassVar[str] = "global_pool"

    def __post_init__(self) -> None:
        check_choice("pool", self.pool, POOL_KINDS)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (2, 3), "(length, channels) or (height, width, channels)")
        return (shape[-1],)

    def describe(self) -> str:
        return f"global_{self.pool}pool"

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return math.prod(shapes[0])


@dataclass(frozen=True)
class Flatten(LayerSpec):
    """Flattens any input to ``(features,)``."""

    kind: ClassVar[str] = "flatten"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return (math.prod(shapes[0]),)


@dataclass(frozen=True)
class Reshape(LayerSpec):
    """Reshapes its input to ``target_shape`` (same number of values): a DCGAN generator's dense
    projection of the latent vector becomes its first feature map ``(height, width, channels)``."""

    target_shape: tuple[int, ...]
    kind: ClassVar[str] = "reshape"

    def __post_init__(self) -> None:
        if not isinstance(self.target_shape, (list, tuple)) or not self.target_shape:
            raise ConfigError(f"target_shape={self.target_shape!r} is invalid: expected a tuple of positive ints")
        object.__setattr__(self, "target_shape", tuple(check_int("target_shape", v, minimum=1)
                                                       for v in self.target_shape))

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if math.prod(shapes[0]) != math.prod(self.target_shape):
            raise self._fail(shapes, f"{math.prod(shapes[0])} values cannot be reshaped to {self.target_shape} "
                                     f"({math.prod(self.target_shape)} values)")
        return self.target_shape

    def config(self) -> dict[str, Any]:
        return {"target_shape": list(self.target_shape)}

    def describe(self) -> str:
        return f"reshape({'x'.join(map(str, self.target_shape))})"


@dataclass(frozen=True)
class Dropout(LayerSpec):
    """Dropout with the given rate (active in training only)."""

    rate: float = 0.5
    kind: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        if check_float("rate", self.rate, minimum=0.0) >= 1.0:
            raise ConfigError(f"rate={self.rate!r} is invalid: expected 0 <= rate < 1")

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]


@dataclass(frozen=True)
class BatchNorm(LayerSpec):
    """Batch normalisation over the last axis (gamma, beta, moving mean and variance)."""

    kind: ClassVar[str] = "batch_norm"

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def params(self, shapes: list[Shape]) -> int:
        return 4 * shapes[0][-1]

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return 2 * math.prod(out)


@dataclass(frozen=True)
class Activation(LayerSpec):
    """An element-wise activation function."""

    activation: str = "relu"
    kind: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        check_choice("activation", self.activation, ACTIVATIONS)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        return shapes[0]

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return math.prod(out)

    def describe(self) -> str:
        return self.activation


@dataclass(frozen=True)
class Add(LayerSpec):
    """Element-wise sum of two or more inputs of identical shape."""

    kind: ClassVar[str] = "add"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    commutative: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if len(set(shapes)) != 1:
            raise self._fail(shapes, "all inputs of add must have the same shape")
        return shapes[0]

    def flops(self, shapes: list[Shape], out: Shape) -> int:
        return math.prod(out) * (len(shapes) - 1)


@dataclass(frozen=True)
class Concat(LayerSpec):
    """Concatenation on the last axis of inputs that agree on every other axis."""

    kind: ClassVar[str] = "concat"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    commutative: ClassVar[bool] = True

    def output_shape(self, shapes: list[Shape]) -> Shape:
        if len({s[:-1] for s in shapes}) != 1 or len({len(s) for s in shapes}) != 1:
            raise self._fail(shapes, "inputs of concat must agree on every axis but the last")
        return (*shapes[0][:-1], sum(s[-1] for s in shapes))


@dataclass(frozen=True)
class Embedding(LayerSpec):
    """A lookup table of ``vocab_size`` vectors of ``dim`` numbers: token ids ``(length,)`` ->
    ``(length, dim)``. Ids are whole numbers in ``0..vocab_size-1`` (0 is padding by evokit's
    tokenizer's convention, an ordinary row here). ``trainable=False`` keeps the table fixed
    (its seeded initial values, or evolved ones); its parameters still count."""

    vocab_size: int
    dim: int
    trainable: bool = True
    kind: ClassVar[str] = "embedding"

    def __post_init__(self) -> None:
        check_int("vocab_size", self.vocab_size, minimum=2)
        check_int("dim", self.dim, minimum=1)
        if not isinstance(self.trainable, bool):
            raise ConfigError(f"trainable={self.trainable!r} is invalid: expected True or False")

    def output_shape(self, shapes: list[Shape]) -> Shape:
        shape = self._expect_rank(shapes, (1,), "token ids of shape (length,) (an embedding reads the network input)")
        return (shape[0], self.dim)

    def params(self, shapes: list[Shape]) -> int:
        return self.vocab_size * self.dim

    def describe(self) -> str:
        fixed = "" if self.trainable else ", fixed"
        return f"embedding({self.vocab_size}x{self.dim}{fixed})"


LAYER_TYPES: dict[str, type[LayerSpec]] = {
    cls.kind: cls for cls in (Dense, Conv2D, Conv1D, SeparableConv2D, Conv2DTranspose, Upsample, Pool, GlobalPool,
                              Flatten, Reshape, Dropout, BatchNorm, Activation, Add, Concat, Embedding)
}


def register_layer(cls: type[LayerSpec]) -> type[LayerSpec]:
    """Make a new layer spec type known to ``layer_from_config`` (class decorator)."""
    LAYER_TYPES[cls.kind] = cls
    return cls


def layer_from_config(kind: str, config: dict[str, Any]) -> LayerSpec:
    """Rebuild a layer spec from ``kind`` and its ``config()``."""
    if kind not in LAYER_TYPES:
        raise ArchitectureError(f"kind={kind!r} is invalid: expected one of {', '.join(LAYER_TYPES)}")
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
    return LAYER_TYPES[kind](**config)
