"""Encodings: genotype representations that decode into NetSpecs."""
from evokit.encodings.base import Encoding, add_head
from evokit.encodings.deepga import ConvBlock, DeepGA, DeepGAGenome, DenseBlock

__all__ = ["Encoding", "add_head", "ConvBlock", "DeepGA", "DeepGAGenome", "DenseBlock"]
