"""evokit's own Keras layers (for layer specs beyond Keras' built-ins), with their builders.

Each submodule defines a Keras layer (registered for ``.keras`` serialisation) and registers a
builder for its NetSpec layer spec in ``evokit.builder.LAYER_BUILDERS``. Importing this package
imports Keras; ``evokit.build`` imports it when it builds, and so should code that loads a saved
``.keras`` model containing these layers: ``import evokit.layers`` before
``keras.models.load_model``.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
