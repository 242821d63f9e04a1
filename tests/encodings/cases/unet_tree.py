from _blobs import blob_data

from evokit.encodings.unet_tree import UNetTree

# name -> (zero-argument factory, the data of its real GA, the (input_shape, n_outputs, task) it is
# checked on). Small U-Nets (two poolings, 4 filters at full resolution, cells at most 3 high) on
# 16x16 images keep the 100-genotype Keras parity check quick; the real GA segments blobs.
SHAPES = [((16, 16, 1), 1, "segmentation"), ((16, 16, 3), 3, "segmentation")]
CASES = {"unet_tree": (lambda: UNetTree(depth=2, base_filters=4, max_depth=2, max_height=3), lambda: blob_data(n=200),
                       SHAPES)}
