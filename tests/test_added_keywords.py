"""Keywords added to a Configurable class after runs were saved (``ADDED``): old pickles read the
defaults, and reprs (a run's recorded identity) stay as they were while the defaults hold."""
import pickle
import random

import evokit as ek
from evokit.params import Configurable


def test_new_keywords_at_their_defaults_leave_the_repr_unchanged():
    assert "strides" not in repr(ek.encodings.DeepGA()) and "heads" not in repr(ek.encodings.DeepGA())
    assert "strides=(1, 2)" in repr(ek.encodings.DeepGA(strides=(1, 2)))
    neat = repr(ek.algorithms.NEAT())
    assert "target_species" not in neat and "population_stagnation" not in neat
    assert "target_species=6" in repr(ek.algorithms.NEAT(target_species=6))


def test_an_object_saved_before_the_keywords_existed_still_works():
    enc = ek.encodings.DeepGA()
    for name in ("strides", "heads"):
        del enc.__dict__[name]  # as unpickled from a run saved before them
    enc = pickle.loads(pickle.dumps(enc))
    assert enc.get_params()["strides"] == (1,)
    assert enc.random(random.Random(0)).head == "flatten"
    old = ek.algorithms.NEAT()
    del old.__dict__["target_species"]
    assert repr(old) == repr(ek.algorithms.NEAT())


def test_a_recorded_repr_with_a_keyword_shown_at_its_default_compares_equal():
    recorded = "NEAT(population=150, generations=100, population_stagnation=None)"
    assert Configurable.without_added_defaults(recorded) == "NEAT(population=150, generations=100)"
    assert "population_stagnation=20" in Configurable.without_added_defaults(
        "NEAT(population=150, population_stagnation=20)")
