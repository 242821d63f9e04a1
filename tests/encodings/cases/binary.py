from evokit.encodings.binary import Binary

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"binary": (lambda: Binary(stages=2, nodes_per_stage=3, filters=(4, 8), kernel_sizes=(3, 5),
                                   dense_layers=1, units=(8, 16)), "digits")}
