"""The regression objectives: validation MAE, RMSE (minimised) and R² (maximised).

They read the metrics :class:`evokit.tasks.Regression` scores the validation split with after
training (``val_mae``, ``val_rmse``, ``val_r2``, as scikit-learn computes them); their arguments
say how candidates are trained, like :class:`~evokit.fitness.accuracy.ValidationAccuracy`'s, with
``loss`` choosing ``"mse"`` (the default), ``"mae"`` or ``"huber"``::

    ek.Search(objectives=ek.fitness.ValidationR2(epochs=20, loss="huber"), data=ek.datasets.load("diabetes"))

On data of another task a search refuses them when it starts (ConfigError naming the objective).
A failed candidate gets the worst value: +inf for MAE and RMSE, -inf for R².
"""
from __future__ import annotations

from evokit.fitness.validation import ValidationMetric

_INSTEAD = "for classification use ValidationAccuracy"


class ValidationMAE(ValidationMetric):
    """Mean absolute error on the validation split after training (in the targets' units,
    averaged over the outputs); minimised."""

    name = "val_mae"
    metric = "val_mae"
    weight = -1.0
    needs = "regression"
    instead = _INSTEAD


class ValidationRMSE(ValidationMetric):
    """Root mean squared error on the validation split after training (in the targets' units;
    with several outputs the mean of their RMSEs, as scikit-learn's); minimised."""

    name = "val_rmse"
    metric = "val_rmse"
    weight = -1.0
    needs = "regression"
    instead = _INSTEAD


class ValidationR2(ValidationMetric):
    """Coefficient of determination R² on the validation split after training (1 is perfect, 0 is
    predicting the mean, negative is worse; with several outputs their mean); maximised. The
    regression task's headline: what the report and the CLI show."""

    name = "val_r2"
    metric = "val_r2"
    weight = 1.0
    needs = "regression"
    instead = _INSTEAD
