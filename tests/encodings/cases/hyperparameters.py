from evokit.encodings.binary import Binary
from evokit.encodings.deepga import DeepGA
from evokit.encodings.hyper import Hyperparameters

# name -> (zero-argument factory of the encoding, dataset of its real GA test). Learning rates stay
# where a 1-epoch training of these tiny networks cannot diverge (the real GA test allows no failure).
CASES = {
    "hyperparameters_deepga": (lambda: Hyperparameters(DeepGA(max_conv_blocks=2, max_dense=1, filters=(4, 8),
                                                              units=(8, 16)),
                                                       learning_rate=(1e-3, 1e-2), batch_size=(16, 32),
                                                       optimizer=("adam", "sgd"), dropout=(0.0, 0.3)), "digits"),
    "hyperparameters_binary": (lambda: Hyperparameters(Binary(stages=1, nodes_per_stage=2, filters=(4, 8),
                                                              kernel_sizes=(3,), dense_layers=1, units=(8, 16)),
                                                       learning_rate=(1e-3, 1e-2), batch_size=(16, 32, 64),
                                                       optimizer=("adam", "rmsprop")), "digits"),
}
