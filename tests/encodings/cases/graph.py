from evokit.encodings.graph import NEAT

# name -> (zero-argument factory of the encoding, dataset of its real GA test)
CASES = {"graph": (lambda: NEAT(add_node_rate=0.3, add_connection_rate=0.3), "breast_cancer")}
