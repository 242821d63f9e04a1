"""Variation operators DEAP lacks, following DEAP's names and contract (in place, return a tuple)."""
from evokit.operators.layerlist import (cxBlockLists, mutFlipSkip, mutInsertBlock, mutLayerList, mutRemoveBlock,
                                        mutResampleBlock)

__all__ = ["cxBlockLists", "mutFlipSkip", "mutInsertBlock", "mutLayerList", "mutRemoveBlock", "mutResampleBlock"]
