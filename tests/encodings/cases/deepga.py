from evokit.encodings.deepga import HEADS, DeepGA
from evokit.presets import compact_space

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"deepga": (lambda: DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16)), "digits"),
         "deepga-priors": (lambda: DeepGA(max_conv_blocks=3, max_dense=1, filters=(4, 8), units=(8,), strides=(1, 2),
                                          heads=HEADS), "digits",
                           [((8, 8, 1), 10), ((40, 1), 10), ((30,), 2)]),
         "deepga-compact": (compact_space, "digits")}
