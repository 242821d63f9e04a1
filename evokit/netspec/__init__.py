"""NetSpec: the framework-free architecture description every encoding decodes into."""
from evokit.netspec.graph import INPUT, Graph, NetSpec, Node
from evokit.netspec.layers import (ACTIVATIONS, Activation, Add, BatchNorm, Concat, Conv1D, Conv2D,
                                   Conv2DTranspose, Dense, Dropout, Embedding, Flatten, GlobalPool, LayerSpec, Pool,
                                   Reshape, SeparableConv2D, Shape, Upsample, layer_from_config, register_layer)
from evokit.netspec.repairs import FLATTEN_LIMIT, add_flatten, add_pool, merge, reduce_to, repair
from evokit.netspec.select import Select
from evokit.netspec.pair import GANSpec

# Layer specs defined in further modules of this package register themselves when imported.
import importlib as _importlib  # noqa: E402
import pkgutil as _pkgutil  # noqa: E402

for _module in _pkgutil.iter_modules(__path__):
    if _module.name not in ("graph", "layers", "repair", "select"):
        _importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["INPUT", "Graph", "NetSpec", "Node", "ACTIVATIONS", "Activation", "Add", "BatchNorm", "Concat",
           "Conv1D", "Conv2D", "Conv2DTranspose", "Dense", "Dropout", "Embedding", "Flatten", "GlobalPool", "LayerSpec", "Pool", "Reshape", "SeparableConv2D", "Shape", "Upsample",
           "GANSpec", "layer_from_config", "register_layer", "FLATTEN_LIMIT", "add_flatten", "add_pool", "merge", "reduce_to", "repair", "Select"]
