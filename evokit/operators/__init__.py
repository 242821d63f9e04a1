"""Variation operators DEAP lacks, following DEAP's names and contract (in place, return a tuple)."""
from evokit.operators.grouping import (cxGroupInjection, mutGrouping, mutMergeGroups, mutMoveItem,
                                       mutSplitGroup)
from evokit.operators.layerlist import (cxBlockLists, mutFlipSkip, mutInsertBlock, mutLayerList, mutRemoveBlock,
                                        mutResampleBlock)
from evokit.operators.neat import (cxNEAT, mutAddConnection, mutAddNode, mutNEAT, mutNEATBatch, mutWeights,
                                   mutWeightsBatch)
from evokit.operators.pso import (apply_velocity, clampSpeed, layer_difference, layer_velocity, repairLayerList,
                                  updateLayerList, updateParticle)

__all__ = ["cxNEAT", "mutAddConnection", "mutAddNode", "mutNEAT", "mutNEATBatch", "mutWeights", "mutWeightsBatch", "cxGroupInjection", "mutGrouping", "mutMergeGroups", "mutMoveItem", "mutSplitGroup", "cxBlockLists", "mutFlipSkip", "mutInsertBlock", "mutLayerList", "mutRemoveBlock", "mutResampleBlock",
           "updateParticle", "clampSpeed", "layer_difference", "layer_velocity", "apply_velocity", "updateLayerList",
           "repairLayerList"]
