from _blobs import blob_data

from evokit.encodings.unet_blocks import UNetBlocks

# name -> (zero-argument factory, the data of its real GA, the (input_shape, n_outputs, task) it is
# checked on). Small U-Nets (at most two poolings, 4-8 filters) on 16x16 images keep the
# 100-genotype Keras parity check quick; the real GA segments blobs.
SHAPES = [((16, 16, 1), 1, "segmentation"), ((16, 16, 3), 3, "segmentation")]
CASES = {"unet_blocks": (lambda: UNetBlocks(max_depth=2, filters=(4, 8), upsampling="bilinear"),
                         lambda: blob_data(n=200), SHAPES)}
