"""The Keras layer of the ``Select`` spec (``evokit.netspec.select``) and its builder."""
from __future__ import annotations

from typing import Any

import keras

from evokit.builder import LAYER_BUILDERS
from evokit.errors import ConfigError, check_int
from evokit.netspec.select import Select as SelectSpec


@keras.saving.register_keras_serializable(package="evokit")
class Select(keras.layers.Layer):
    """Gathers features ``indices`` of the last axis, in that order; no weights.

    Args:
        indices: a non-empty sequence of integers >= 0, each below the input's last axis.

    Input shape:
        ``(batch, ..., features)``.

    Output shape:
        ``(batch, ..., len(indices))``.
    """

    def __init__(self, indices: Any, **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(indices, (list, tuple)) or not indices:
            raise ConfigError(f"indices={indices!r} is invalid: expected a non-empty list of integers >= 0")
        self.indices = tuple(check_int(f"indices[{i}]", v, minimum=0) for i, v in enumerate(indices))

    def build(self, input_shape: Any) -> None:
        width = input_shape[-1]
        if width is not None and max(self.indices) >= width:
            raise ConfigError(f"indices={list(self.indices)!r} is invalid: expected indices below the input "
                              f"width {width}")
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        indices = keras.ops.convert_to_tensor(list(self.indices), dtype="int32")
        return keras.ops.take(inputs, indices, axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (*input_shape[:-1], len(self.indices))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "indices": list(self.indices)}


def build_select(layer: SelectSpec, input_rank: int, seed: int, name: str) -> Select:
    """``LAYER_BUILDERS`` entry: the Keras layer of a ``Select`` spec."""
    return Select(layer.indices, name=name)


LAYER_BUILDERS[SelectSpec] = build_select
