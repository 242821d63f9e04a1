from evokit.encodings.grouping import Grouping

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"grouping": (lambda: Grouping(n_items=6, max_groups=3, units=(4, 8), filters=(4, 8)), "breast_cancer")}
