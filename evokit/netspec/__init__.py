"""NetSpec: the framework-free architecture description every encoding decodes into."""
from evokit.netspec.graph import INPUT, Graph, NetSpec, Node
from evokit.netspec.layers import (ACTIVATIONS, Activation, Add, BatchNorm, Concat, Conv1D, Conv2D, Dense,
                                   Dropout, Flatten, GlobalPool, LayerSpec, Pool, Shape, layer_from_config,
                                   register_layer)
from evokit.netspec.repair import add_pool, merge, reduce_to, repair

__all__ = ["INPUT", "Graph", "NetSpec", "Node", "ACTIVATIONS", "Activation", "Add", "BatchNorm", "Concat",
           "Conv1D", "Conv2D", "Dense", "Dropout", "Flatten", "GlobalPool", "LayerSpec", "Pool", "Shape",
           "layer_from_config", "register_layer", "add_pool", "merge", "reduce_to", "repair"]
