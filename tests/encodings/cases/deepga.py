from evokit.encodings.deepga import DeepGA

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"deepga": (lambda: DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8), units=(8, 16)), "digits")}
