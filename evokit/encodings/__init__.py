"""Encodings: genotype representations that decode into NetSpecs.

Every encoding implements :class:`Encoding` and passes the conformance suite
(``tests/encodings/test_conformance.py``), so a search can swap one for another.
"""
from evokit.encodings.base import Encoding, add_head
from evokit.encodings.binary import Binary, BinaryGenome
from evokit.encodings.dcgan import DCGAN
from evokit.encodings.deepga import ConvBlock, DeepGA, DeepGAGenome, DenseBlock
from evokit.encodings.graph import NEAT
from evokit.encodings.grouping import Grouping, GroupingGenome
from evokit.encodings.hyper import Hyperparameters, HyperparametersGenome
from evokit.encodings.permutation import Block as LayerBlock
from evokit.encodings.permutation import Permutation, PermutationGenome
from evokit.encodings.real import Real, RealGenome
from evokit.encodings.textcnn import TextCNN, TextCNNGenome
from evokit.encodings.tree import Tree, TreeGenome
from evokit.encodings.unet_blocks import UNetBlock, UNetBlocks, UNetBlocksGenome
from evokit.encodings.unet_tree import UNetTree
from evokit.operators.neat_genome import InnovationTracker, NEATGenome

__all__ = ["Encoding", "add_head", "Binary", "BinaryGenome", "ConvBlock", "DCGAN", "DeepGA", "DeepGAGenome",
           "DenseBlock", "NEAT", "NEATGenome", "InnovationTracker", "Grouping", "GroupingGenome", "Hyperparameters",
           "HyperparametersGenome", "LayerBlock", "Permutation", "PermutationGenome", "Real", "RealGenome", "TextCNN",
           "TextCNNGenome", "Tree", "TreeGenome", "UNetTree", "UNetBlocks", "UNetBlocksGenome", "UNetBlock"]
