from sklearn.datasets import load_digits

import evokit as ek
from evokit.encodings.dcgan import DCGAN


def digit_images():
    """A small gan dataset: 400 of scikit-learn's 8x8 digits as images, their classes kept for the
    feature classifier of the Fréchet distance."""
    bunch = load_digits()
    return ek.datasets.from_arrays(bunch.images[:400, :, :, None] / 16.0, bunch.target[:400], task="gan", seed=0)


# name -> (zero-argument factory, the data of its real GA, the (input_shape, n_outputs, task) it is
# checked on). Small pairs (latent 4-8, at most 16 generator filters) on 8x8 digits keep the
# 100-genotype Keras parity check quick.
CASES = {"dcgan": (lambda: DCGAN(latent_sizes=(4, 8), generator_filters=(8, 16), discriminator_filters=(4, 8),
                                 min_filters=4),
                   digit_images, [((8, 8, 1), 1, "gan")])}
