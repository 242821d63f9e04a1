"""GANSpec: a generator and its discriminator, one candidate of a GAN search.

A GAN candidate is a pair of networks trained against each other, but what a user keeps is the
generator. So a GANSpec *is* its generator (a NetSpec from a latent vector to an image: what
gets built, drawn, exported and counted by ``params`` and ``flops``) and carries its
discriminator (image -> one real/fake logit) beside it. Its ``hash`` covers both networks and
the learning rate each carries in ``training``, so two pairs that differ only in their
discriminator are trained apart.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any, Mapping

from evokit.errors import ArchitectureError
from evokit.netspec.graph import SPEC_READERS, NetSpec


class GANSpec(NetSpec):
    """A generator NetSpec (``latent -> image``) with its ``discriminator`` (``image -> (1,)``).

    ``params`` and ``flops`` are the generator's (the network a user deploys);
    ``discriminator.params`` and :attr:`pair_params` count the rest. ``training`` is the
    generator's own training settings (its learning rate); the discriminator's are
    ``discriminator.training``.
    """

    def __init__(self, generator: NetSpec, discriminator: NetSpec):
        if not isinstance(generator, NetSpec) or isinstance(generator, GANSpec):
            raise ArchitectureError(f"generator={generator!r} is invalid: expected a NetSpec")
        if not isinstance(discriminator, NetSpec) or isinstance(discriminator, GANSpec):
            raise ArchitectureError(f"discriminator={discriminator!r} is invalid: expected a NetSpec")
        super().__init__(generator.input_shape, generator.nodes, dict(generator.training))
        self.discriminator = discriminator

    @property
    def generator(self) -> NetSpec:
        """The generator alone, as a plain NetSpec."""
        return NetSpec(self.input_shape, self.nodes, dict(self.training))

    @property
    def latent_size(self) -> int:
        """The length of the generator's latent vector."""
        return self.input_shape[0]

    def validate(self) -> "GANSpec":
        """Check both networks, and that the discriminator reads what the generator writes and
        answers with one logit; ArchitectureError naming the network otherwise."""
        if len(self.input_shape) != 1:
            raise ArchitectureError(f"generator input_shape={self.input_shape} is invalid: expected (latent,)")
        for name, net in (("generator", self.generator), ("discriminator", self.discriminator)):
            try:
                net.validate()
            except ArchitectureError as exc:
                raise ArchitectureError(f"{name}: {exc}") from None
        if self.output_shape != self.discriminator.input_shape:
            raise ArchitectureError(f"discriminator input_shape={self.discriminator.input_shape} is invalid: the "
                                    f"generator writes images of shape {self.output_shape}")
        if self.discriminator.output_shape != (1,):
            raise ArchitectureError(f"discriminator output_shape={self.discriminator.output_shape} is invalid: "
                                    "expected (1,), one real/fake logit")
        return self

    @property
    def pair_params(self) -> int:
        """Parameters of both networks."""
        return self.params + self.discriminator.params

    @functools.cached_property
    def hash(self) -> str:  # type: ignore[override]
        text = f"gan|{super().hash}|{self.discriminator.hash}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @functools.cached_property
    def _canonical_pair(self) -> "GANSpec":
        return GANSpec(self.generator.canonical(), self.discriminator.canonical())

    def canonical(self) -> "GANSpec":
        """Both networks in canonical form (what ``hash`` identifies, and what gets built)."""
        return self._canonical_pair

    def with_training(self, training: Mapping[str, Any] | None) -> "GANSpec":
        """The same pair, the generator carrying these training settings."""
        return GANSpec(self.generator.with_training(training), self.discriminator)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "discriminator": self.discriminator.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GANSpec":
        rest = {k: v for k, v in data.items() if k != "discriminator"}
        return cls(NetSpec.from_dict(rest), NetSpec.from_dict(data["discriminator"]))

    def summary(self) -> str:
        return (f"generator\n{super().summary()}\n\ndiscriminator\n{self.discriminator.summary()}\n"
                f"pair params: {self.pair_params:,}")

    def describe(self) -> str:
        return f"G: {super().describe()} | D: {self.discriminator.describe()}"

    def __repr__(self) -> str:
        return (f"GANSpec(latent={self.latent_size}, image={self.output_shape}, generator params={self.params:,}, "
                f"discriminator params={self.discriminator.params:,})")


SPEC_READERS["discriminator"] = GANSpec.from_dict
