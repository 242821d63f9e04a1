"""The segmentation task beyond the conformance suite: binary masks, data checks that name the
field, and candidates trained exactly as a plain Keras fit trains them."""
import keras
import numpy as np
import pytest

import evokit as ek
from evokit import tasks
from evokit.encodings.base import add_head
from evokit.errors import ConfigError, DataError
from evokit.netspec import Concat, Conv2D, Conv2DTranspose, Graph, Pool
from evokit.runtime.training.trainer import train
from evokit.tasks.overlap import overlap_scores, soft_loss
from evokit.tasks.segmentation_loss import DiceCrossEntropy


def _blobs(n=48, side=8, seed=0):
    """Images of a bright square on noise, and its mask (0/255, as image files hold them)."""
    rng = np.random.default_rng(seed)
    masks = np.zeros((n, side, side), "uint8")
    for m in masks:
        r, c = rng.integers(0, side - 3, size=2)
        m[r:r + 3, c:c + 3] = 255
    x = (masks[..., None] / 255.0 + rng.normal(0, 0.3, size=(n, side, side, 1))).astype("float32")
    return x, masks


def _unet(data):
    """A two-level U-Net: conv, pool, conv, up-convolution, skip concatenation, head."""
    g = Graph(data.input_shape)
    skip = g.add(Conv2D(4, 3), g.input)
    deep = g.add(Conv2D(8, 3), g.add(Pool("max", 2), skip))
    up = g.add(Conv2DTranspose(4), deep)
    return add_head(g, g.add(Conv2D(4, 3), g.add(Concat(), skip, up)), data.n_outputs, data.task)


def test_binary_masks_get_one_sigmoid_and_are_scored_on_the_foreground():
    task = tasks.get("segmentation")
    y, _, classes = task.targets(np.array([[[0, 255], [255, 255]], [[0, 0], [255, 0]]]))
    assert classes == (0, 255) and task.n_outputs(y, classes) == 1 and task.head(1) == ("sigmoid", 1)
    p = np.array([[[0.2, 0.9], [0.4, 0.7]], [[0.6, 0.1], [0.8, 0.3]]], "float32")[..., None]
    # foreground true at 4 pixels, predicted (p > 0.5) at 4, both at 3: Dice 6/8, IoU 3/5
    scores = task.score(y, p)
    assert scores["val_dice"] == pytest.approx(0.75) and scores["val_iou"] == pytest.approx(0.6)
    assert scores["val_pixel_accuracy"] == pytest.approx(6 / 8)
    ce = -np.mean(np.log([0.8, 0.9, 0.4, 0.7, 0.4, 0.9, 0.8, 0.7]))
    soft = ((2 * (0.9 + 0.4 + 0.7) + 1) / (2.2 + 3 + 1) + (2 * 0.8 + 1) / (1.8 + 1 + 1)) / 2  # per image
    assert scores["val_loss"] == pytest.approx(ce + 1 - soft, rel=1e-6)
    keras_loss = float(DiceCrossEntropy()(y, p))
    assert keras_loss == pytest.approx(scores["val_loss"], rel=1e-5)
    confident = np.array([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [0.0, 0.0]]], "float32")[..., None]  # 4 wrong
    assert float(DiceCrossEntropy()(y, confident)) == pytest.approx(task.score(y, confident)["val_loss"], rel=1e-5)


def test_a_class_absent_from_truth_and_prediction_scores_one():
    y = np.zeros((1, 2, 2), "int64")
    assert overlap_scores(y, y, 3) == {"dice": 1.0, "iou": 1.0, "pixel_accuracy": 1.0}
    assert overlap_scores(y, np.ones_like(y), 1)["dice"] == 0.0  # foreground predicted where there is none
    p = np.zeros((1, 2, 2, 1), "float32")
    assert soft_loss(y, p) == pytest.approx(0.0, abs=1e-5)  # confident, right, empty: no loss


def test_masks_that_do_not_fit_the_images_are_refused_naming_the_field():
    x, masks = _blobs()
    with pytest.raises(DataError, match=r"^y=<masks of shape \(8, 7\)> is invalid: expected one mask of the images' "
                                        r"size \(8, 8\)"):
        ek.datasets.from_arrays(x, masks[:, :, :7])
    with pytest.raises(DataError, match=r"^X=<samples of shape \(8, 8\)> is invalid: .*X\[\.\.\., None\]"):
        ek.datasets.from_arrays(x[..., 0], masks)
    with pytest.raises(DataError, match=r"^y=<array of dtype <U1> is invalid: expected masks of whole numbers"):
        ek.datasets.from_arrays(x, np.where(masks > 0, "a", "b"), task="segmentation")
    with pytest.raises(DataError, match=r"^y=<masks with fractions"):
        ek.datasets.from_arrays(x, masks / 510.0)
    with pytest.raises(DataError, match=r"^y_test=<masks with values \[7\] not in y>"):
        ek.datasets.from_arrays(x, masks, X_test=x[:4], y_test=np.full((4, 8, 8), 7))
    with pytest.raises(DataError, match=r"^y_test=<masks of shape \(4, 4\)> is invalid: expected one mask of the "
                                        r"images' size \(8, 8\)"):
        ek.datasets.from_arrays(x, masks, X_test=x[:4], y_test=masks[:4, :4, :4])


def test_a_dataset_refuses_a_mask_class_it_does_not_declare():
    data = ek.datasets.from_arrays(*_blobs())
    y = data.y_val.copy()
    y[0, 0, 0] = 2
    with pytest.raises(DataError, match=r"^y_val=<masks with class codes from 0 to 2> is invalid: expected class codes "
                                        r"0\.\.1 .*a class the data does not declare"):
        ek.datasets.Dataset("d", "segmentation", data.x_train, data.y_train, data.x_val, y, data.x_test,
                            data.y_test, classes=data.classes)
    with pytest.raises(DataError, match=r"^y_val=<array of dtype float32> is invalid: expected integer class codes"):
        ek.datasets.Dataset("d", "segmentation", data.x_train, data.y_train, data.x_val,
                            data.y_val.astype("float32"), data.x_test, data.y_test, classes=data.classes)
    with pytest.raises(DataError, match=r"^y_train=<masks of shape \(8, 4\)> is invalid"):
        ek.datasets.Dataset("d", "segmentation", data.x_train, data.y_train[:, :, :4], data.x_val, data.y_val,
                            data.x_test, data.y_test)
    with pytest.raises(DataError, match=r"^x_train=<samples of shape \(8, 8\)> is invalid: expected images"):
        ek.datasets.Dataset("d", "segmentation", data.x_train[..., 0], data.y_train, data.x_val[..., 0], data.y_val,
                            data.x_test[..., 0], data.y_test)


def test_encodings_that_cannot_keep_the_resolution_refuse_segmentation_data():
    data = ek.datasets.from_arrays(*_blobs())
    with pytest.raises(ConfigError, match=r"^encoding=DeepGA is invalid for segmentation data: .*UNetTree"):
        ek.encodings.DeepGA().check_data(data)
    with pytest.raises(ConfigError, match=r"^encoding=Tree is invalid for segmentation data"):
        ek.Search(encoding=ek.encodings.Tree(), objectives=ek.fitness.ValidationDice(), data=data).run()


def test_standalone_training_equals_a_plain_keras_fit_on_the_same_seed():
    x, masks = _blobs(n=38)
    data = ek.datasets.from_arrays(x, masks, X_test=x[:8], y_test=masks[:8], val_size=0.2)
    # 30 images in batches of 8: the trainer pads the last batch of 6 with zero-weighted images,
    # which must weigh nothing (the Dice term is per image), as Keras's own short last batch
    assert len(data.y_train) == 30
    spec, config, seed = _unet(data), ek.TrainingConfig(epochs=2, batch_size=8, learning_rate=0.01), 5
    ours = train(spec, data, config, seed=seed, keep_weights=True)
    assert ours.status == "ok" and set(ours.metrics) >= {"val_dice", "val_iou", "val_loss", "val_pixel_accuracy"}

    keras.utils.set_random_seed(seed)
    model = ek.build(spec, seed=seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss=DiceCrossEntropy())
    rng = np.random.default_rng(seed)
    for _ in range(2):  # the trainer's batches: one permutation per epoch from the candidate's seed
        order = rng.permutation(len(data.x_train))
        model.fit(data.x_train[order], data.y_train[order], batch_size=8, epochs=1, shuffle=False, verbose=0)
    assert len(model.get_weights()) == len(ours.weights) == 10
    for theirs, mine in zip(model.get_weights(), ours.weights):
        np.testing.assert_allclose(theirs, mine, rtol=1e-4, atol=1e-6)
    scores = tasks.get("segmentation").score(data.y_val, np.asarray(model.predict(data.x_val, verbose=0)))
    assert scores["val_dice"] == pytest.approx(ours.metrics["val_dice"], abs=1e-6)


def test_objectives_of_another_task_are_refused_before_anything_trains():
    data = ek.datasets.from_arrays(*_blobs())
    search = ek.Search(encoding=ek.encodings.UNetTree(base_filters=2), objectives=ek.fitness.ValidationAccuracy(),
                       data=data, algorithm=ek.algorithms.GA(population=2, generations=0), progress=False)
    with pytest.raises(ConfigError, match=r"^ValidationAccuracy needs classification data: it reads val_accuracy, "
                                          r"which a segmentation task does not score .*val_dice"):
        search.run()
