"""DCGAN: a real vector in [0, 1]^n read as a generator/discriminator pair (DCGAN-PSO, psoCNN style).

A genotype is a :class:`~evokit.encodings.real.RealGenome` of :data:`GENES` genes (one of each,
in that order), each picking one of its choices as :class:`~evokit.encodings.Real`'s genes do
(:func:`~evokit.encodings.real.choice`: ``choices[min(int(gene * n), n - 1)]``, the gene clipped
to [0, 1]). Since ``DCGAN`` is a ``Real`` in the architecture mode, PSO searches it unchanged
(``bounds`` is [0, 1] per gene) and GA/NSGA-II vary it with Real's bounded SBX crossover and
polynomial mutation (or blend/Gaussian: out-of-range genes clip when decoded).

It decodes into one :class:`~evokit.netspec.GANSpec` for images of shape ``(height, width,
channels)``:

* **generator** ``(latent,)`` -> ``Dense(h0 * w0 * base, linear)`` -> ``Reshape((h0, w0, base))``
  -> [BatchNorm] -> activation, then one block per generator block ``i = 1..n``, each
  ``Conv2DTranspose(f_i, kernel, strides=2, padding="same")`` (or ``Upsample(2)`` +
  ``Conv2D(f_i, kernel)`` when the upsampling gene picks ``"upsample"``) -> [BatchNorm] ->
  activation, and finally ``Conv2D(channels, kernel, padding="same", activation="tanh")``: its
  output is exactly the image shape. Filters halve per block: ``f_i = max(min_filters,
  base // 2**i)``.
* **discriminator** ``(height, width, channels)`` -> one block per discriminator block ``j =
  0..m-1``, each ``Conv2D(base * 2**j, kernel, strides=2, padding="same")`` -> [BatchNorm, never
  on the first block] -> ``leaky_relu`` -> [``Dropout(rate)`` when the rate is > 0], then
  ``Flatten()`` -> ``Dense(1, linear)`` (one real/fake logit).

Repairs (decoding never fails on a genotype of the right length):

* **generator upsampling**: of the ``n`` blocks the gene asks for, the first ``k`` upsample by 2,
  where ``k`` is the largest number ``<= n`` such that ``2**k`` divides both the height and the
  width (so ``h0 = height / 2**k`` and ``w0 = width / 2**k`` are whole: 28x28 allows k <= 2,
  12x20 k <= 2, an odd side k = 0). The other ``n - k`` blocks are kept as stride-1
  ``Conv2D(f_i, kernel, padding="same")`` blocks at the full size (with the same batch
  normalisation and activation), so the block gene still sets the generator's depth.
* **discriminator downsampling**: a strided 'same' convolution makes each side
  ``ceil(side / 2)``; blocks stop once the map is 1x1 (a further one would not downsample), so
  ``m = min(blocks gene, ceil(log2(max(height, width))))``.

The learning rates are the networks' own training settings
(``generator.with_training({"learning_rate": lr_g})``, the discriminator's likewise), so they
are part of the pair's hash and the adversarial trainer reads them from there.
"""
from __future__ import annotations

import math
from numbers import Real as _Number
from typing import Any

from evokit import tasks
from evokit.encodings.base import rng_or_global
from evokit.encodings.real import Real, RealGenome, check_genome, choice
from evokit.errors import ConfigError, check_choices, check_int
from evokit.netspec import (ACTIVATIONS, Activation, BatchNorm, Conv2D, Conv2DTranspose, Dense, Dropout, Flatten,
                            GANSpec, Graph, Reshape, Upsample)

GENES = ("latent", "generator_blocks", "generator_filters", "generator_kernel", "generator_upsampling",
         "generator_batch_norm", "generator_activation", "discriminator_blocks", "discriminator_filters",
         "discriminator_kernel", "discriminator_batch_norm", "discriminator_dropout", "generator_learning_rate",
         "discriminator_learning_rate")
"""The genes of a genotype, in order: the latent vector's size; the generator's number of blocks,
base filters (those of its first feature map, halved per block), kernel size (all its
convolutions), upsampling kind (``"transpose"`` or ``"upsample"``), batch normalisation (on/off)
and activation; the discriminator's number of blocks, base filters (doubled per block), kernel
size, batch normalisation (on/off, never on its first block) and dropout rate; the generator's
and the discriminator's learning rates."""
UPSAMPLINGS = ("transpose", "upsample")
"""How a generator block doubles the map: a strided transposed convolution, or a nearest-neighbour
upsampling followed by a convolution."""
DISCRIMINATOR_ACTIVATION = "leaky_relu"
"""The activation of every discriminator block (DCGAN's)."""
MAX_BLOCKS = 8
"""The largest ``max_generator_blocks`` and ``max_discriminator_blocks`` (256x upsampling)."""
LEARNING_RATES = (5e-5, 1e-4, 2e-4, 5e-4, 1e-3)
"""The default learning-rate choices of both networks."""
_SHORT = {"relu": "", "leaky_relu": "-lrelu"}


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_rate(value: Any) -> bool:
    return isinstance(value, _Number) and not isinstance(value, bool) and 0.0 <= value < 1.0


def _is_learning_rate(value: Any) -> bool:
    return (isinstance(value, _Number) and not isinstance(value, bool) and math.isfinite(value)
            and 0.0 < value <= 1.0)


def _short_rate(rate: float) -> str:
    """``2e-4`` for 0.0002: one mantissa, one exponent, no padding."""
    mantissa, exponent = f"{rate:.2e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _image_shape(input_shape: Any) -> tuple[int, int, int]:
    """``input_shape`` as ``(height, width, channels)``; ConfigError naming ``data`` otherwise."""
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    if (not isinstance(shape, tuple) or len(shape) != 3
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shape)):
        raise ConfigError(f"data of input shape {shape!r} is invalid for DCGAN: expected images (height, width, "
                          "channels) with positive sides (add a channel axis to grayscale images: X[..., None])")
    return shape  # type: ignore[return-value]


def upsampling_blocks(height: int, width: int, blocks: int) -> int:
    """How many of ``blocks`` generator blocks upsample by 2: the largest ``k <= blocks`` such
    that ``2**k`` divides both ``height`` and ``width``."""
    k = 0
    while k < blocks and height % 2 ** (k + 1) == 0 and width % 2 ** (k + 1) == 0:
        k += 1
    return k


def downsampling_blocks(height: int, width: int, blocks: int) -> int:
    """How many of ``blocks`` strided discriminator blocks run: each makes a side
    ``ceil(side / 2)``, and none runs on a 1x1 map."""
    m = 0
    while m < blocks and max(height, width) > 1:
        height, width, m = math.ceil(height / 2), math.ceil(width / 2), m + 1
    return m


class DCGAN(Real):
    """A generator/discriminator pair (DCGAN) as a real vector in [0, 1]^n: see the module docstring.

    Args:
        latent_sizes: choices of the latent vector's size.
        max_generator_blocks: the generator has 1..max blocks (repaired to the image size).
        generator_filters: choices of the generator's base filters (its first feature map's
            channels; halved per block, never below ``min_filters``).
        generator_kernel_sizes: choices of the kernel size of all the generator's convolutions.
        upsamplings: choices of how a generator block upsamples (among :data:`UPSAMPLINGS`).
        generator_batch_norm: choices of batch normalisation after each generator block (bools).
        generator_activations: choices of the generator's activation (names among
            ``evokit.netspec.ACTIVATIONS``).
        max_discriminator_blocks: the discriminator has 1..max strided blocks (repaired so the map
            stays at least 1x1).
        discriminator_filters: choices of the discriminator's base filters (doubled per block).
        discriminator_kernel_sizes: choices of the kernel size of the discriminator's convolutions.
        discriminator_batch_norm: choices of batch normalisation after each discriminator block
            but the first (bools).
        dropouts: choices of the dropout rate after each discriminator block (0 <= rate < 1;
            0 means no Dropout layer).
        generator_learning_rates, discriminator_learning_rates: choices of each network's
            learning rate (in ``(0, 1]``), carried in its ``training``.
        min_filters: the fewest filters a generator block gets.
        crossover, mutation, eta, alpha, sigma, indpb: variation, as :class:`Real`'s
            architecture mode (sbx or blend; polynomial or gaussian).

    Input: images ``(height, width, channels)`` of a generative task (``task="gan"``).
    """

    name = "dcgan"
    generative = True
    trains = True
    mode = "architecture"

    def __init__(self, *, latent_sizes: tuple[int, ...] = (8, 16, 32, 64), max_generator_blocks: int = 3,
                 generator_filters: tuple[int, ...] = (16, 32, 64, 128),
                 generator_kernel_sizes: tuple[int, ...] = (3, 4, 5),
                 upsamplings: tuple[str, ...] = UPSAMPLINGS, generator_batch_norm: tuple[bool, ...] = (True, False),
                 generator_activations: tuple[str, ...] = ("relu", "leaky_relu"), max_discriminator_blocks: int = 3,
                 discriminator_filters: tuple[int, ...] = (8, 16, 32, 64),
                 discriminator_kernel_sizes: tuple[int, ...] = (3, 4, 5),
                 discriminator_batch_norm: tuple[bool, ...] = (True, False),
                 dropouts: tuple[float, ...] = (0.0, 0.25, 0.4),
                 generator_learning_rates: tuple[float, ...] = LEARNING_RATES,
                 discriminator_learning_rates: tuple[float, ...] = LEARNING_RATES, min_filters: int = 8,
                 crossover: str | None = None, mutation: str | None = None, eta: float = 20.0, alpha: float = 0.5,
                 sigma: float = 0.1, indpb: float | None = None):
        self.latent_sizes = check_choices("latent_sizes", latent_sizes)
        self.max_generator_blocks = check_int("max_generator_blocks", max_generator_blocks, minimum=1,
                                              maximum=MAX_BLOCKS)
        self.generator_filters = check_choices("generator_filters", generator_filters)
        self.generator_kernel_sizes = check_choices("generator_kernel_sizes", generator_kernel_sizes)
        self.upsamplings = check_choices("upsamplings", upsamplings, lambda v: v in UPSAMPLINGS,
                                         f"values among {UPSAMPLINGS}")
        self.generator_batch_norm = check_choices("generator_batch_norm", generator_batch_norm, _is_bool,
                                                  "bools (True, False)")
        self.generator_activations = check_choices("generator_activations", generator_activations,
                                                   lambda v: v in ACTIVATIONS, f"values among {ACTIVATIONS}")
        self.max_discriminator_blocks = check_int("max_discriminator_blocks", max_discriminator_blocks, minimum=1,
                                                  maximum=MAX_BLOCKS)
        self.discriminator_filters = check_choices("discriminator_filters", discriminator_filters)
        self.discriminator_kernel_sizes = check_choices("discriminator_kernel_sizes", discriminator_kernel_sizes)
        self.discriminator_batch_norm = check_choices("discriminator_batch_norm", discriminator_batch_norm,
                                                      _is_bool, "bools (True, False)")
        self.dropouts = check_choices("dropouts", dropouts, _is_rate, "rates with 0 <= rate < 1")
        self.generator_learning_rates = check_choices("generator_learning_rates", generator_learning_rates,
                                                      _is_learning_rate, "learning rates with 0 < rate <= 1")
        self.discriminator_learning_rates = check_choices("discriminator_learning_rates",
                                                          discriminator_learning_rates, _is_learning_rate,
                                                          "learning rates with 0 < rate <= 1")
        self.min_filters = check_int("min_filters", min_filters, minimum=1)
        self._set_variation("architecture", crossover, mutation, eta, alpha, sigma, indpb)
        self.network = self.network_ = None  # Real's weights-mode fields: unused in the architecture mode

    # -- size, data -------------------------------------------------------------------------------

    def n_genes(self) -> int:
        """Number of genes of every genotype: one per entry of :data:`GENES`."""
        return len(GENES)

    def _options(self) -> dict[str, tuple]:
        return {
            "latent": self.latent_sizes, "generator_blocks": tuple(range(1, self.max_generator_blocks + 1)),
            "generator_filters": self.generator_filters, "generator_kernel": self.generator_kernel_sizes,
            "generator_upsampling": self.upsamplings, "generator_batch_norm": self.generator_batch_norm,
            "generator_activation": self.generator_activations,
            "discriminator_blocks": tuple(range(1, self.max_discriminator_blocks + 1)),
            "discriminator_filters": self.discriminator_filters,
            "discriminator_kernel": self.discriminator_kernel_sizes,
            "discriminator_batch_norm": self.discriminator_batch_norm, "discriminator_dropout": self.dropouts,
            "generator_learning_rate": self.generator_learning_rates,
            "discriminator_learning_rate": self.discriminator_learning_rates}

    def genes(self, genotype: RealGenome) -> dict[str, Any]:
        """The genotype's genes read as choices: ``{"latent": 32, "generator_blocks": 3, ...}``
        (block counts as the genes ask; ``decode`` repairs them to the image size)."""
        check_genome(genotype, self.n_genes())
        options = self._options()
        return {name: choice(genotype[i], options[name]) for i, name in enumerate(GENES)}

    def check_data(self, data: Any) -> None:
        """Refuse data of a task that is not generative (DCGAN decodes generator/discriminator
        pairs), then check its shape with :meth:`check_input`."""
        self._check_task(data.task, "data")
        self.check_input(data.input_shape, data.n_outputs, data.task)

    def check_input(self, input_shape: tuple[int, ...], n_outputs: int, task: str) -> None:
        """Refuse shapes that are not images ``(height, width, channels)`` and non-generative
        tasks, naming ``data``."""
        self._check_task(task, "data")
        _image_shape(input_shape)

    @staticmethod
    def _check_task(task: Any, field: str) -> tasks.Task:
        kind = tasks.get(task)
        if not kind.generative:
            if field == "data":
                raise ConfigError(f"encoding=DCGAN is invalid for {kind.name} data: it decodes generator/"
                                  "discriminator pairs for a gan task; load the data with task='gan'")
            raise ConfigError(f"task={task!r} is invalid for DCGAN: it decodes generator/discriminator pairs "
                              "for a generative task ('gan')")
        return kind

    # -- sampling and decoding ----------------------------------------------------------------------

    def random(self, rng: Any = None) -> RealGenome:
        """A genotype of :meth:`n_genes` genes drawn uniformly from [0, 1]."""
        rng = rng_or_global(rng)
        return RealGenome(rng.random() for _ in range(self.n_genes()))

    def decode(self, genotype: RealGenome, input_shape: tuple[int, ...], n_outputs: int = 1,
               task: str = "gan") -> GANSpec:
        """The pair this genotype describes for images of ``input_shape`` (see the module
        docstring); ``n_outputs`` is ignored (a discriminator answers one logit)."""
        check_genome(genotype, self.n_genes())
        self._check_task(task, "task")
        height, width, channels = _image_shape(input_shape)
        genes = self.genes(genotype)
        generator = self._generator(genes, height, width, channels)
        discriminator = self._discriminator(genes, height, width, channels)
        return GANSpec(generator.with_training({"learning_rate": genes["generator_learning_rate"]}),
                       discriminator.with_training({"learning_rate": genes["discriminator_learning_rate"]}))

    def _generator(self, genes: dict[str, Any], height: int, width: int, channels: int) -> Any:
        blocks, base = genes["generator_blocks"], genes["generator_filters"]
        kernel, activation = genes["generator_kernel"], genes["generator_activation"]
        batch_norm, transpose = genes["generator_batch_norm"], genes["generator_upsampling"] == "transpose"
        k = upsampling_blocks(height, width, blocks)
        h0, w0 = height // 2 ** k, width // 2 ** k
        g = Graph((genes["latent"],))
        x = g.add(Dense(h0 * w0 * base, activation="linear"), g.input)
        x = g.add(Reshape((h0, w0, base)), x)

        def finish_block(x: int) -> int:
            if batch_norm:
                x = g.add(BatchNorm(), x)
            return g.add(Activation(activation), x)

        x = finish_block(x)
        for i in range(1, blocks + 1):
            filters = max(self.min_filters, base // 2 ** i)
            if i > k:  # no more room to upsample: a stride-1 convolution at the full size
                x = g.add(Conv2D(filters, kernel, padding="same", activation="linear"), x)
            elif transpose:
                x = g.add(Conv2DTranspose(filters, kernel, strides=2, padding="same", activation="linear"), x)
            else:
                x = g.add(Upsample(2), x)
                x = g.add(Conv2D(filters, kernel, padding="same", activation="linear"), x)
            x = finish_block(x)
        return g.finish(g.add(Conv2D(channels, kernel, padding="same", activation="tanh"), x))

    def _discriminator(self, genes: dict[str, Any], height: int, width: int, channels: int) -> Any:
        base, kernel, rate = genes["discriminator_filters"], genes["discriminator_kernel"], genes["discriminator_dropout"]
        g = Graph((height, width, channels))
        x = g.input
        for j in range(downsampling_blocks(height, width, genes["discriminator_blocks"])):
            x = g.add(Conv2D(base * 2 ** j, kernel, strides=2, padding="same", activation="linear"), x)
            if j > 0 and genes["discriminator_batch_norm"]:
                x = g.add(BatchNorm(), x)
            x = g.add(Activation(DISCRIMINATOR_ACTIVATION), x)
            if rate > 0:
                x = g.add(Dropout(float(rate)), x)
        x = g.add(Flatten(), x)
        return g.finish(g.add(Dense(1, activation="linear"), x))

    # -- display --------------------------------------------------------------------------------------

    def describe(self, genotype: RealGenome) -> str:
        """E.g. ``z32 G:3xT64k4bn D:2x16k4 lr 2e-4/1e-4``: the latent size; the generator's blocks
        (as the gene asks), ``T`` (transposed convolutions) or ``U`` (upsampling), base filters,
        kernel, ``bn`` with batch normalisation and ``-lrelu`` for leaky ReLU; the discriminator's
        blocks, base filters, kernel, ``bn`` and ``d<rate>`` with dropout; the generator's and the
        discriminator's learning rates."""
        g = self.genes(genotype)
        gen = (f"G:{g['generator_blocks']}x{'T' if g['generator_upsampling'] == 'transpose' else 'U'}"
               f"{g['generator_filters']}k{g['generator_kernel']}{'bn' if g['generator_batch_norm'] else ''}"
               f"{_SHORT.get(g['generator_activation'], '-' + g['generator_activation'])}")
        disc = (f"D:{g['discriminator_blocks']}x{g['discriminator_filters']}k{g['discriminator_kernel']}"
                f"{'bn' if g['discriminator_batch_norm'] else ''}"
                f"{'d' + format(g['discriminator_dropout'], 'g') if g['discriminator_dropout'] > 0 else ''}")
        lrs = f"lr {_short_rate(g['generator_learning_rate'])}/{_short_rate(g['discriminator_learning_rate'])}"
        return f"z{g['latent']} {gen} {disc} {lrs}"
