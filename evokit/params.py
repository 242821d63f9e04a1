"""``Configurable``: objects configured entirely by constructor keywords, as scikit-learn's
estimators are. ``get_params`` reads them back and ``repr`` shows them, so that a config file
maps onto a constructor one to one and ``config.json`` records what a search used.
"""
from __future__ import annotations

import inspect
from typing import Any, ClassVar


class Configurable:
    """A mixin for classes whose constructor stores each keyword under its own name."""

    ADDED: ClassVar[dict[str, Any]] = {}
    """Keywords added after objects of the class were first saved (pickled with a run), with their
    defaults: the class also carries each default as a class attribute, so that an old pickle
    reads it, and ``repr`` leaves such a keyword out while it has its default, so that the
    identity a run recorded (``repr`` of its encoding and algorithm) stays the same."""

    @staticmethod
    def without_added_defaults(text: str) -> str:
        """``text`` (a recorded ``repr``) without the ``, key=default`` of every keyword some
        Configurable class lists in ``ADDED``: a repr written while such a keyword was shown at
        its default reads as today's, which leaves it out."""
        pending, added = list(Configurable.__subclasses__()), set()
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            added.update((k, repr(v)) for k, v in cls.__dict__.get("ADDED", {}).items())
        for key, value in added:
            text = text.replace(f", {key}={value}", "")
        return text

    def get_params(self) -> dict[str, Any]:
        """Constructor arguments, as scikit-learn's ``get_params``."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {n: getattr(self, n) for n in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if not (k in self.ADDED and v == self.ADDED[k]))
        return f"{type(self).__name__}({args})"
