"""examples/user_fitness.py: a user depth objective next to ValidationAccuracy, searched with NSGA-II."""

import evokit as ek
from evokit.netspec import Graph
from evokit.netspec.layers import Add, Conv2D, Dense, Flatten, Pool


def test_depth_counts_weight_layers_on_the_longest_path(load_example):
    g = Graph((8, 8, 1))
    a = g.add(Conv2D(4, 3, padding="same"), g.input)
    b = g.add(Conv2D(4, 3, padding="same"), a)
    merged = g.add(Add(), a, b)  # a skip connection does not shorten the longest path
    x = g.add(Flatten(), g.add(Pool(), merged))
    out = g.add(Dense(10, activation="softmax"), x)
    assert load_example("user_fitness").depth(ek.Evaluation(spec=g.finish(out))) == 3.0


def test_user_fitness_prints_a_front_of_accuracy_and_depth(load_example, small_digits, capsys):
    module = load_example("user_fitness")
    result = module.main(population=4, generations=1, epochs=1, data=small_digits, progress=False)
    printed = capsys.readouterr().out
    assert result.objective_names == ["val_accuracy", "depth"]
    front = result.pareto_front
    assert front
    for c in front:
        assert c.values["depth"] == module.depth(c.evaluation) >= 1  # the user function's value, from the spec
        assert c.values["val_accuracy"] == c.evaluation.metrics["val_accuracy"]
    for a in front:  # no member dominates another
        for b in front:
            assert not (a.values["val_accuracy"] >= b.values["val_accuracy"] and a.values["depth"] <= b.values["depth"]
                        and a.values != b.values)
    assert "Pareto front on digits (validation accuracy up, depth down)" in printed
    lines = [line for line in printed.splitlines() if line.strip() and line.split()[0].replace(".", "").isdigit()]
    assert len(lines) == len(front)
    assert "most accurate member: test accuracy" in printed
