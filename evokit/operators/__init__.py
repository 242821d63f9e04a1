"""Variation operators DEAP lacks, following DEAP's names and contract (in place, return a tuple)."""
from evokit.operators.grouping import (cxGroupInjection, mutGrouping, mutMergeGroups, mutMoveItem,
                                       mutSplitGroup)
from evokit.operators.layerlist import (cxBlockLists, mutFlipSkip, mutInsertBlock, mutLayerList, mutRemoveBlock,
                                        mutResampleBlock)

__all__ = ["cxGroupInjection", "mutGrouping", "mutMergeGroups", "mutMoveItem", "mutSplitGroup", "cxBlockLists", "mutFlipSkip", "mutInsertBlock", "mutLayerList", "mutRemoveBlock", "mutResampleBlock"]
