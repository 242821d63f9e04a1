from evokit.encodings.real import Real

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"real": (lambda: Real(max_layers=3, filters=(4, 8), units=(8, 16)), "digits"),
         "real-weights": (lambda: Real(mode="weights"), "breast_cancer")}
