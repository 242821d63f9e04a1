"""One training step: the forward pass, the loss, the gradients and the optimizer's update, traced
once per model and nothing else in it.

``Model.train_on_batch`` runs ``Model.train_step`` through ``tf.distribute`` with a loss tracker
and the compiled metrics, all traced into every new model's train function, and Keras's optimizers
update each variable with ~15 separate ops, each traced in Python. On the small networks a search
trains, tracing that costs as much as all of a candidate's training steps: profiled on DeepGA
networks (digits, batch 32, TensorFlow), tracing forward pass and gradients took ~75 ms and the
Adam update ~300 ms more.

Choices, and why:

* TensorFlow only: :func:`train_step` is a ``tf.function`` of its own there. Other backends keep
  ``train_on_batch`` (the same step, traced by Keras).
* The loss is ``model.compute_loss`` (the compiled loss with its sample weights, plus the model's
  regularization losses): what ``train_step`` minimises and reports.
* Adam, as evokit compiles it (no clipping, weight decay, EMA, loss scaling, AMSGrad, constraints),
  is applied with TensorFlow's fused ``ResourceApplyAdam``: one op per variable, the formula of
  Keras's ``Adam.update_step`` (``alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)``, the same slot
  variables and ``iterations``) where the optimizer is built (a shared trace-once graph: its state
  stays a Keras optimizer's, reset between candidates). Any other optimizer is applied with its
  own ``apply``.
* A model compiled without its optimizer's slots (``compile_model(..., build_optimizer=False)``,
  a candidate's own model) gets them here, before the step is traced: for the fused Adam, plain
  TensorFlow variables held by the step (``m`` and ``v``, zeros like Keras's), not Keras
  variables, which cost ~0.75 ms each to make against ~0.2 ms (~20 slots per DeepGA network);
  for any other optimizer, ``optimizer.build``. Such a model's Adam moments then live outside its
  optimizer (``optimizer.variables`` holds only ``iterations`` and the rate): it is trained once
  and never saved with its optimizer (a candidate's model is rebuilt from its weights,
  ``Evaluation.model()``), so nothing reads or resets them there. A model compiled with them built
  (a shared trace-once graph, whose optimizer state is reset between candidates) keeps using them.
* The learning rate is read from the optimizer's variable at each step, so assigning
  ``optimizer.learning_rate`` between epochs (a schedule) reaches the traced step.
"""
from __future__ import annotations

from typing import Any, Callable

STEP_ATTRIBUTE = "_evokit_train_step"
"""Where a model keeps its traced step (with the optimizer it was made for)."""


def train_step(model: Any) -> Callable[[Any, Any, Any], Any]:
    """``step(x, y, sample_weight) -> loss`` for a compiled ``model``: one training step on a batch,
    returning the batch's loss as ``train_on_batch`` reports it. Made once per model and
    optimizer (a shared graph reuses its step for every candidate trained in it)."""
    import keras

    if keras.config.backend() != "tensorflow":
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        return lambda x, y, w: model.train_on_batch(x, y, sample_weight=w, return_dict=True)["loss"]
    kept = model.__dict__.get(STEP_ATTRIBUTE)
    if kept is not None and kept[0] is model.optimizer:
        return kept[1]
    step = _traced_step(model)
    object.__setattr__(model, STEP_ATTRIBUTE, (model.optimizer, step))  # not a tracked attribute of the model
    return step


def _traced_step(model: Any) -> Callable[[Any, Any, Any], Any]:
    import tensorflow as tf

    optimizer = model.optimizer
    variables = list(model.trainable_variables)
    slots = adam_slots(optimizer, variables) if fused_adam(optimizer, variables) else None
    if slots is None and not optimizer.built:
        optimizer.build(variables)

    @tf.function(autograph=False)
    def step(x: Any, y: Any, sample_weight: Any) -> Any:
        with tf.GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        gradients = tape.gradient(loss, variables)
        if slots is not None:
            _apply_adam(optimizer, gradients, variables, *slots)
        else:
            optimizer.apply(gradients, variables)
        return loss

    return step


def fused_adam(optimizer: Any, variables: list[Any]) -> bool:
    """Whether ``optimizer`` is a plain Keras Adam that :func:`_apply_adam` computes exactly."""
    import keras

    return (type(optimizer) is keras.optimizers.Adam and not optimizer.amsgrad
            and optimizer.clipnorm is None and optimizer.clipvalue is None and optimizer.global_clipnorm is None
            and optimizer.weight_decay is None and not optimizer.use_ema and optimizer.loss_scale_factor is None
            and optimizer.gradient_accumulation_steps is None
            and not isinstance(optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule)
            and all(v.constraint is None for v in variables))


def adam_slots(optimizer: Any, variables: list[Any]) -> tuple[list[Any], list[Any]]:
    """The first and second moments (``m``, ``v``) of each of ``variables``, as TensorFlow
    variables: the optimizer's own where it is built, else new ones, zeros as Keras makes them
    (made before the step is traced, never inside it)."""
    import numpy as np
    import tensorflow as tf

    if optimizer.built:
        indices = [optimizer._get_variable_index(variable) for variable in variables]
        return ([optimizer._momentums[i].value for i in indices], [optimizer._velocities[i].value for i in indices])

    def zeros(variable: Any) -> Any:
        return tf.Variable(np.zeros(variable.shape, variable.dtype), trainable=False)

    return [zeros(v) for v in variables], [zeros(v) for v in variables]


def _apply_adam(optimizer: Any, gradients: list[Any], variables: list[Any], momentums: list[Any],
                velocities: list[Any]) -> None:
    """Keras's Adam step (``Adam.update_step`` for each variable, then ``iterations += 1``), one
    ``ResourceApplyAdam`` per variable with the moments ``momentums`` and ``velocities`` (see
    :func:`adam_slots`); variables without a gradient are left alone, as Keras does."""
    import tensorflow as tf

    scalars: dict[Any, tuple[Any, ...]] = {}  # per variable dtype: beta powers, learning rate, betas, epsilon

    def constants(dtype: Any) -> tuple[Any, ...]:
        if dtype not in scalars:
            local_step = tf.cast(optimizer.iterations + 1, dtype)
            beta_1, beta_2 = tf.cast(optimizer.beta_1, dtype), tf.cast(optimizer.beta_2, dtype)
            scalars[dtype] = (tf.pow(beta_1, local_step), tf.pow(beta_2, local_step),
                              tf.cast(optimizer.learning_rate, dtype), beta_1, beta_2, tf.cast(optimizer.epsilon, dtype))
        return scalars[dtype]

    for gradient, variable, m, v in zip(gradients, variables, momentums, velocities):
        if gradient is None:
            continue
        beta_1_power, beta_2_power, learning_rate, beta_1, beta_2, epsilon = constants(variable.dtype)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.value.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power, beta2_power=beta_2_power,
            lr=learning_rate, beta1=beta_1, beta2=beta_2, epsilon=epsilon,
            grad=tf.convert_to_tensor(tf.cast(gradient, variable.dtype)))
    optimizer.iterations.assign_add(1)
