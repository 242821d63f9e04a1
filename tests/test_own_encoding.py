"""examples/own_encoding.py: a user's encoding written from scratch passes evokit's conformance
suite, runs in a Search and can be named in a config once registered."""
import sys
from pathlib import Path

import pytest

import evokit as ek
from evokit.testing import EncodingConformance

sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))  # imported by name, as a user's module is
import own_encoding  # noqa: E402 (the path above first; pickling needs the module importable by name)


class TestWidths(EncodingConformance):
    encoding = own_encoding.Widths
    parity_count = 10
    ga_population = 3
    ga_generations = 1


class TestWidthsOnImages(EncodingConformance):
    """A configured instance, on a large image and a small one: a large one is pooled before flattening."""

    encoding = own_encoding.Widths(max_layers=2, widths=(4, 8))
    shapes = [((64, 64, 1), 3), ((32, 32, 3), 10)]
    parity_count = 3
    variation_count = 10

    def test_a_real_ga_trains_real_models(self):  # one real GA (in TestWidths) is enough for one encoding
        spec = self.make(self.shapes[0]).decode(own_encoding.WidthsGenome([8]), (64, 64, 1), 3)
        assert spec.params <= 8192 * 8 + 8 + 8 * 3 + 3  # pooled to at most FLATTEN_LIMIT values


def test_the_example_searches_and_prints_the_best_network(small_digits, capsys):
    result = own_encoding.main(population=3, generations=1, epochs=1, data=small_digits, progress=False)
    out = capsys.readouterr().out
    assert "from the config: Widths(max_layers=2" in out and "best network: D" in out
    assert result.stats["trained"] >= 3 and result.best.values["val_accuracy"] > 0.1
    assert isinstance(result.best.genotype, own_encoding.WidthsGenome)


def test_registered_names_only_and_clear_errors():
    ek.config.register_encoding("widths", own_encoding.Widths)
    assert ek.config.loads('[encoding]\ntype = "widths"\nwidths = [4]\n').encoding.widths == (4,)
    with pytest.raises(ek.errors.ConfigError, match="encoding.max_layer"):
        ek.config.loads('[encoding]\ntype = "widths"\nmax_layer = 2\n')
    with pytest.raises(ek.errors.ConfigError, match="built-in encoding type"):
        ek.config.register_encoding("deepga", own_encoding.Widths)
    with pytest.raises(ek.errors.ConfigError, match="concrete subclass of evokit.encodings.Encoding"):
        ek.config.register_encoding("widths", own_encoding.WidthsGenome)
    with pytest.raises(ek.errors.GenotypeError, match="widths from"):
        own_encoding.Widths().from_json([3])
