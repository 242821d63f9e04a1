"""``Configurable``: objects configured entirely by constructor keywords, as scikit-learn's
estimators are. ``get_params`` reads them back and ``repr`` shows them, so that a config file
maps onto a constructor one to one and ``config.json`` records what a search used.
"""
from __future__ import annotations

import inspect
from typing import Any


class Configurable:
    """A mixin for classes whose constructor stores each keyword under its own name."""

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as scikit-learn's ``get_params``."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"
