"""The ``Select`` layer spec: pick some features of a flat input, in a given order.

Grouping encodings use it to give each branch of a network its own subset of the input
features. It has no weights and does no arithmetic. Its Keras layer lives in
``evokit.layers.select`` (imported by ``evokit.build``); this module imports no framework.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from evokit.errors import ConfigError, check_int
from evokit.netspec.layers import LayerSpec, Shape, register_layer

_SHOWN = 6
"""``describe`` lists at most this many indices."""


@register_layer
@dataclass(frozen=True)
class Select(LayerSpec):
    """Gather features ``indices`` of a flat input: ``(n,) -> (len(indices),)``; no parameters.

    Args:
        indices: a non-empty tuple of feature indices (integers >= 0); a list is accepted and
            stored as a tuple. Each index must be below the input's width (checked against the
            input shape, so a Select fits only inputs at least that wide).
    """

    indices: tuple[int, ...]
    kind: ClassVar[str] = "select"

    def __post_init__(self) -> None:
        if isinstance(self.indices, list):
            object.__setattr__(self, "indices", tuple(self.indices))
        if not isinstance(self.indices, tuple) or not self.indices:
            raise ConfigError(f"indices={self.indices!r} is invalid: expected a non-empty tuple of integers >= 0")
        for i, value in enumerate(self.indices):
            check_int(f"indices[{i}]", value, minimum=0)

    def output_shape(self, shapes: list[Shape]) -> Shape:
        (width,) = self._expect_rank(shapes, (1,), "a flat input (features,); add a Flatten first")
        largest = max(self.indices)
        if largest >= width:
            raise self._fail(shapes, f"index {largest} is out of range: expected indices below {width}")
        return (len(self.indices),)

    def describe(self) -> str:
        shown = ",".join(map(str, self.indices[:_SHOWN]))
        more = "" if len(self.indices) <= _SHOWN else f",... {len(self.indices)} in all"
        return f"select[{shown}{more}]"
