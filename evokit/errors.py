"""The exceptions evokit raises on bad input.

Every message names the field, the value given and what is allowed, so that a user can fix a
config, a genotype or a dataset without reading a stack trace from deep inside Keras.
"""
from __future__ import annotations

import os
import sys
import warnings
from typing import Any


class EvokitError(Exception):
    """Base class of every error evokit raises on purpose."""


class ConfigError(EvokitError, ValueError):
    """A constructor argument or config value is missing, of the wrong type or out of range."""


class DataError(EvokitError, ValueError):
    """A dataset has the wrong shape, NaN values, or labels that don't match its samples."""


class ArchitectureError(EvokitError, ValueError):
    """A NetSpec cannot be built: a layer gets an input shape it cannot take."""


class GenotypeError(EvokitError, ValueError):
    """A genotype does not fit its encoding (wrong type, length or gene value)."""


class CallbackError(EvokitError, RuntimeError):
    """A search callback raised: ``callback`` is the callback object, ``hook`` the method that
    raised (``on_generation_end`` ...), and ``__cause__`` the callback's own exception. The search
    stopped with its last checkpoint intact (see ``evokit.callbacks.hooks``). An EvokitError so
    that one ``except`` catches all of evokit's, but a failure of the run, not bad input: the
    command exits 1 for it (2 only when the callback's own error is bad input, an EvokitError)."""

    def __init__(self, message: str, callback: Any = None, hook: str = "") -> None:
        super().__init__(message)
        self.callback = callback
        self.hook = hook


def invalid(field: str, value: Any, allowed: str, error: type[EvokitError] = ConfigError) -> EvokitError:
    """Make the standard message: ``field=value is invalid: allowed ...``."""
    return error(f"{field}={value!r} is invalid: {allowed}")


def check_int(field: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int within [minimum, maximum], else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(field, value, "expected an integer")
    if minimum is not None and value < minimum:
        raise invalid(field, value, f"expected an integer >= {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(field, value, f"expected an integer <= {maximum}")
    return value


def check_float(field: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                exclusive_minimum: bool = False) -> float:
    """Return ``value`` as float if it is a real number in range, else raise ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(field, value, "expected a number")
    value = float(value)
    if value != value:
        raise invalid(field, value, "expected a number, not NaN")
    if minimum is not None and (value <= minimum if exclusive_minimum else value < minimum):
        bound = ">" if exclusive_minimum else ">="
        raise invalid(field, value, f"expected a number {bound} {minimum}")
    if maximum is not None and value > maximum:
        raise invalid(field, value, f"expected a number <= {maximum}")
    return value


def check_choice(field: str, value: Any, choices: tuple | list) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ConfigError listing them."""
    if value not in choices:
        raise invalid(field, value, "expected one of " + ", ".join(repr(c) for c in choices))
    return value


def is_positive_int(value: Any) -> bool:
    """True for an int >= 1 (bools are not ints here)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def check_choices(field: str, values: Any, ok: Any = is_positive_int, what: str = "positive integers",
                  distinct: bool = False) -> tuple:
    """Return ``values`` as a tuple if it is a non-empty list whose items all pass ``ok`` (and are
    distinct, if asked), else raise ConfigError: the choices an encoding draws a gene from."""
    if (not isinstance(values, (tuple, list)) or not values or not all(ok(v) for v in values)
            or (distinct and len(set(values)) != len(values))):
        raise ConfigError(f"{field}={values!r} is invalid: expected a non-empty list of "
                          f"{'distinct ' if distinct else ''}{what}")
    return tuple(values)


class Described:
    """A description standing in for a value in an error message (arrays are too long to repr)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<{self.text}>"


def invalid_data(field: str, what: str, allowed: str) -> DataError:
    """A DataError in the standard form for a value too long to show: ``field=<what> is invalid: allowed``."""
    return invalid(field, Described(what), allowed, DataError)  # type: ignore[return-value]


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn`` pointed at the user's line that led here (the first caller outside
    evokit), however deep inside a search the warning is raised: the warning names the line the
    user can change, and Python's default filter shows it once per such line."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level + 1)
