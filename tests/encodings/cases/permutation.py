from evokit.encodings.permutation import Block, Permutation

SMALL = (Block("conv", 4, 3), Block("conv", 8, 3), Block("conv", 4, 5, "tanh"), Block("maxpool", 2),
         Block("avgpool", 2), Block("dense", 16), Block("dense", 8, activation="elu"), Block("dropout", 0.2))

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"permutation": (lambda: Permutation(blocks=SMALL), "digits")}
