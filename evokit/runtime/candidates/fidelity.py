"""Multi-fidelity evaluation: successive halving inside one batch (one generation) of candidates.

Every new network of a batch trains ``min_epochs``; the best ``1/eta`` of them (by one
objective, failures last) train on, from the weights they reached, to ``eta`` times as many
epochs in all; and so on until ``max_epochs``. The rest keep the scores of the last rung they
reached and are marked: ``evaluation.extra["epochs"]`` (epochs trained) and
``extra["fidelity"]`` (that as a fraction of ``max_epochs``), both in the candidate records.

Choices, and why:

* Promoted candidates *continue* (their rung weights are the next rung's initial weights, the
  optimizer starts afresh, and each rung draws its own shuffling seed) rather than restart: a
  rung then costs only the extra epochs. A result reached this way is not the same as training
  ``max_epochs`` in one go, so every rung's result has a cache key of its own (``+sh...@E``):
  a low-fidelity result is never taken for a full one, and a search without halving never sees
  them.
* A network evaluated earlier in the same search (in an earlier batch) gets its earlier
  evaluation back, at whatever fidelity it reached: halving ranks a batch's *new* networks
  against each other and does not reopen stopped ones (stopped configurations stay stopped, as
  in Hyperband). A network that reached full fidelity earlier is thus a cache hit, and so is a
  stopped one, marked as such. This keeps a resumed run exact: nothing depends on which weights
  happen to be in memory.
* At least one candidate of a batch is always promoted, so the batch's best reaches
  ``max_epochs``, and a batch of one (``toolbox.evaluate``) is evaluated at full fidelity.
* Candidates are ranked by ``objective`` (an index into the search's objectives); by default
  the first objective that needs training (accuracy rather than a parameter count), else the
  first.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

from evokit.errors import ConfigError, check_int


class SuccessiveHalving:
    """Successive halving of each batch of new candidates (see the module docstring).

    Args:
        min_epochs: epochs every new candidate trains (the first rung).
        eta: each rung keeps the best ``1/eta`` (at least one) and multiplies the epochs by ``eta``.
        max_epochs: epochs of the last rung (full fidelity); None: the search's training epochs.
        objective: index of the objective candidates are ranked by; None: the first objective
            that needs training (else the first).
    """

    def __init__(self, min_epochs: int = 1, eta: int = 3, max_epochs: int | None = None, objective: int | None = None):
        self.min_epochs = check_int("min_epochs", min_epochs, minimum=1)
        self.eta = check_int("eta", eta, minimum=2)
        if max_epochs is not None:
            check_int("max_epochs", max_epochs, minimum=1)
            if max_epochs < min_epochs:
                raise ConfigError(f"max_epochs={max_epochs!r} is invalid: expected an integer >= min_epochs "
                                  f"({min_epochs})")
        self.max_epochs = max_epochs
        self.objective = None if objective is None else check_int("objective", objective, minimum=0)

    def rungs(self, epochs: int) -> list[int]:
        """Total epochs at each rung, given the search's training ``epochs`` (used when
        ``max_epochs`` is None): ``min_epochs * eta**k`` below the top, then the top."""
        top = self.max_epochs if self.max_epochs is not None else epochs
        if self.min_epochs >= top:
            return [top]
        rungs, e = [], self.min_epochs
        while e < top:
            rungs.append(e)
            e *= self.eta
        return rungs + [top]

    def promoted(self, n: int) -> int:
        """How many of ``n`` candidates at a rung go on to the next one."""
        return max(1, n // self.eta)

    def ranking_objective(self, objectives: Sequence[Any]) -> int:
        """The index of the objective candidates are ranked by."""
        if self.objective is not None:
            if self.objective >= len(objectives):
                raise ConfigError(f"objective={self.objective!r} is invalid: expected an index below the number of "
                                  f"objectives ({len(objectives)})")
            return self.objective
        return next((k for k, o in enumerate(objectives) if getattr(o, "needs_training", True)), 0)

    def tag(self, epochs: int) -> str:
        """The cache-key suffix of a result reached at ``epochs`` under this schedule."""
        return f"+sh{self.min_epochs}x{self.eta}@{epochs}"

    def __repr__(self) -> str:
        return (f"SuccessiveHalving(min_epochs={self.min_epochs}, eta={self.eta}, max_epochs={self.max_epochs}, "
                f"objective={self.objective})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SuccessiveHalving) and repr(self) == repr(other)

    def __hash__(self) -> int:
        return hash(repr(self))


def best(scores: Sequence[float], n: int) -> list[int]:
    """Indices of the ``n`` highest finite scores, best first (ties: the earlier index);
    non-finite scores (failures) are never chosen."""
    order = sorted((i for i, s in enumerate(scores) if math.isfinite(s)), key=lambda i: -scores[i])
    return order[:n]
