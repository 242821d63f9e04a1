from evokit.encodings.tree import Tree

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"tree": (lambda: Tree(max_depth=3, max_height=6, filters=(4, 8), units=(8, 16)), "digits")}
