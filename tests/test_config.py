"""Config files: TOML -> Search, one to one with the Python API; errors name the key path."""
import inspect
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

import evokit as ek
from evokit import config
from evokit.errors import ConfigError, DataError

ROOT = Path(__file__).parent.parent
EXAMPLES = sorted((ROOT / "examples" / "configs").glob("*.toml"))
EXPECTED = {"deepga": ("DeepGA", "GA", 1), "neat": ("NEAT", "NEAT", 1), "pso": ("Real", "PSO", 1),
            "gp": ("Tree", "GP", 1), "nsga2_co2": ("DeepGA", "NSGA2", 3), "regression": ("DeepGA", "GA", 1),
            "textcnn": ("TextCNN", "NSGA2", 2), "deepnewt": ("TextCNN", "GA", 1),
            "segmentation": ("UNetTree", "NSGA2", 2), "gan": ("DCGAN", "PSO", 1)}


def test_there_is_one_example_config_per_search_style():
    assert sorted(p.stem for p in EXAMPLES) == sorted(EXPECTED)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_config_loads_into_a_search(path):
    search = config.load(path)
    encoding, algorithm, n_objectives = EXPECTED[path.stem]
    assert isinstance(search, ek.Search)
    assert type(search.encoding).__name__ == encoding
    assert type(search.algorithm).__name__ == algorithm
    assert len(search.objectives) == n_objectives
    assert search.run_dir == f"runs/{path.stem}"


def test_a_config_builds_the_same_search_as_the_python_api():
    text = """
    description = "round trip"
    seed = 3
    run_dir = "runs/x"
    final_training = { epochs = 7, early_stopping = 2 }
    hall_of_fame = 2

    [data]
    name = "wine"

    [encoding]
    type = "deepga"
    max_conv_blocks = 2
    units = [8, 16]

    [[objectives]]
    type = "accuracy"
    epochs = 2
    learning_rate = 0.01

    [[objectives]]
    type = "params"

    [[objectives]]
    type = "co2"
    estimator = { pue = 1.5, carbon_intensity_g_per_kwh = 300.0 }

    [[constraints]]
    type = "max_params"
    limit = 5000

    [algorithm]
    type = "nsga2"
    population = 8
    cxpb = 0.9

    [budget]
    generations = 3
    seconds = 60

    [evaluator]
    type = "processes"
    workers = 2
    max_tasks_per_child = 5
    """
    search = config.loads(text)
    fitness = ek.fitness
    python = ek.Search(encoding=ek.encodings.DeepGA(max_conv_blocks=2, units=(8, 16)),
                       objectives=[fitness.ValidationAccuracy(epochs=2, learning_rate=0.01), fitness.ParameterCount(),
                                   fitness.CO2(estimator=fitness.GreenAlgorithms(pue=1.5,
                                                                                 carbon_intensity_g_per_kwh=300.0))],
                       data="wine", algorithm=ek.algorithms.NSGA2(population=8, cxpb=0.9),
                       budget=ek.Budget(generations=3, seconds=60), seed=3,
                       workers=ek.runtime.ProcessEvaluator(workers=2, max_tasks_per_child=5), run_dir="runs/x",
                       final_training=ek.TrainingConfig(epochs=7, early_stopping=2), hall_of_fame=2,
                       constraints=[fitness.MaxParams(5000)])
    assert search.config() == python.config()
    assert search.objectives[0].training == python.objectives[0].training
    assert search.objectives[2].estimator == python.objectives[2].estimator
    assert search.hall_of_fame == 2 and search.final_training == python.final_training


def test_defaults_and_short_forms():
    empty = config.from_dict({})
    assert type(empty.encoding).__name__ == "DeepGA" and [o.name for o in empty.objectives] == ["val_accuracy"]
    assert type(empty.algorithm).__name__ == "GA" and empty.data == "digits" and empty.seed == 0
    short = config.from_dict({"encoding": "tree", "objectives": ["accuracy", "params"], "algorithm": "nsga2",
                              "data": "iris", "final_training": 5})
    assert type(short.encoding).__name__ == "Tree" and [o.name for o in short.objectives] == ["val_accuracy", "params"]
    assert type(short.algorithm).__name__ == "NSGA2" and short.data == "iris"
    assert short.final_training.epochs == 5 and short.final_training.early_stopping == 5
    assert config.from_dict({"final_training": 0}).final_training is None


def test_weight_and_name_apply_to_every_objective():
    search = config.from_dict({"objectives": [{"type": "accuracy", "name": "acc"},
                                              {"type": "flops", "weight": -2.5}]})
    assert [o.name for o in search.objectives] == ["acc", "flops"]
    assert [o.weight for o in search.objectives] == [1.0, -2.5]


def test_nested_tables_build_objects():
    search = config.from_dict({"objectives": [{"type": "deepga_score", "w": 0.1, "accuracy": {"epochs": 2}}],
                               "constraints": [{"type": "max_predicted_co2", "kg": 1e-3,
                                                "co2": {"mode": "predicted", "cost_model": {"overhead_s": 0.1}}}]})
    score = search.objectives[0]
    assert score.w == 0.1 and score.accuracy.training.epochs == 2
    assert search.constraints[0]._co2.cost_model.overhead_s == 0.1


def test_weighted_sum_terms_with_coefficients_and_scales(small_digits):
    search = config.from_dict({"objectives": [{"type": "weighted_sum", "name": "score", "terms": [
        {"type": "accuracy", "epochs": 1, "weight": 1.0}, {"type": "params", "weight": -0.5, "scale": 1000}]}]})
    score = search.objectives[0]
    assert score.name == "score" and score.scales == {"params": 1000}
    spec = ek.encodings.DeepGA().decode(ek.encodings.DeepGA().random(), small_digits.input_shape, 10)
    evaluation = ek.Evaluation(spec, metrics={"val_accuracy": 0.8})
    assert score(evaluation) == pytest.approx(0.8 - 0.5 * spec.params / 1000)


def test_user_types_by_module_path_with_the_opt_in(tmp_path, monkeypatch):
    (tmp_path / "my_objectives.py").write_text("def depth(evaluation):\n    return float(evaluation.params)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    doc = {"objectives": [{"type": "evokit.fitness.accuracy:ValidationAccuracy", "epochs": 1},
                          {"type": "my_objectives:depth", "weight": -1.0, "needs_training": False}]}
    search = config.from_dict(doc, allow_imports=True)
    assert search.objectives[1].name == "depth" and search.objectives[1].weight == -1.0
    assert search.objectives[1].needs_training is False
    with pytest.raises(ConfigError, match=r"^objectives\[1\]\.type='my_objectives:depth' is invalid: module "
                                          "'my_objectives' is outside evokit"):
        config.from_dict(doc)


# --- a config file is data: it never runs code (issue 16, items 1 and 13) ---------------------------

SHELL = {"encoding": {"type": "os:system", "command": "echo PWNED > pwned.txt"}}


@pytest.mark.parametrize("doc, field", [
    (SHELL, "encoding"),
    ({"algorithm": {"type": "subprocess:run", "args": "echo PWNED > pwned.txt", "shell": True}}, "algorithm"),
    ({"objectives": [{"type": "os:system", "command": "echo PWNED > pwned.txt"}]}, "objectives[0]"),
    ({"objectives": [{"type": "os:system"}]}, "objectives[0]"),
    ({"constraints": [{"type": "os:system", "command": "echo PWNED > pwned.txt"}]}, "constraints[0]"),
    ({"evaluator": {"type": "os:system", "command": "echo PWNED > pwned.txt"}}, "evaluator"),
    ({"objectives": [{"type": "deepga_score", "accuracy": {"type": "os:system", "command": "echo PWNED > pwned.txt"}}]},
     "objectives[0].accuracy"),
])
@pytest.mark.parametrize("allow_imports", [False, True])
def test_a_config_never_calls_what_it_names_even_with_the_opt_in(tmp_path, monkeypatch, doc, field, allow_imports):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        config.from_dict(doc, allow_imports=allow_imports)
    kind = "'subprocess:run'" if "subprocess" in str(doc) else "'os:system'"
    assert str(info.value).startswith(f"{field}.type={kind} is invalid: ")
    # without the opt-in the module is not even imported; with it, os.system is no Encoding (etc.)
    assert ("outside evokit" in str(info.value)) is not allow_imports
    assert not (tmp_path / "pwned.txt").exists()


def test_the_issues_shell_command_is_refused_from_a_file_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "evil.toml"
    cfg.write_text('[encoding]\ntype = "os:system"\ncommand = "echo PWNED > pwned.txt"\n')
    for allow_imports in (False, True):
        with pytest.raises(ConfigError, match=r"^encoding\.type='os:system' is invalid: "):
            config.load(cfg, allow_imports=allow_imports)
    assert not (tmp_path / "pwned.txt").exists()


@pytest.mark.parametrize("kind, message", [
    ("evokit.algorithms.ga:GA", "expected a subclass of evokit.encodings.base.Encoding; it names a class "
                                "(evokit.algorithms.ga.GA)"),
    ("evokit.config:load", "expected a subclass of evokit.encodings.base.Encoding; it names a function"),
    ("evokit.encodings.base:Encoding", "Encoding is abstract"),
    ("evokit.__main__:main", "expected 'package.module:Name' of public names"),  # importing it would run the CLI
    ("evokit:_os.system", "expected 'package.module:Name' of public names"),
    ("builtins:eval", "module 'builtins' is outside evokit"),
    ("os:", "expected 'package.module:Name'"),
])
def test_evokit_names_of_the_wrong_kind_are_refused_before_a_call(kind, message):
    with pytest.raises(ConfigError) as info:
        config.from_dict({"encoding": {"type": kind}})
    assert str(info.value).startswith(f"encoding.type={kind!r} is invalid: ") and message in str(info.value)


def test_evokit_classes_of_the_right_base_need_no_opt_in():
    search = config.from_dict({"encoding": {"type": "evokit.encodings.deepga:DeepGA", "max_conv_blocks": 2},
                               "algorithm": {"type": "evokit.algorithms.ga:GA", "population": 4},
                               "objectives": [{"type": "evokit.fitness.complexity:ParameterCount"}],
                               "evaluator": {"type": "evokit.runtime.executors.serial:SerialEvaluator"}})
    assert type(search.encoding).__name__ == "DeepGA" and search.algorithm.population == 4


def test_an_evokit_function_is_an_objective_only_with_the_opt_in():
    doc = {"objectives": [{"type": "evokit.pareto:hypervolume"}]}
    with pytest.raises(ConfigError, match=r"^objectives\[0\]\.type='evokit.pareto:hypervolume' is invalid: it "
                                          "names a function; .* only when loaded with allow_imports=True"):
        config.from_dict(doc)
    assert config.from_dict(doc, allow_imports=True).objectives[0].name == "hypervolume"


OWN_ENCODING = """
from pathlib import Path

from evokit.encodings.deepga import DeepGA

Path(__file__).with_name("imported.txt").write_text("the module ran")


class Small(DeepGA):
    pass
"""


def test_a_module_outside_evokit_is_imported_only_with_the_opt_in(tmp_path):
    (tmp_path / "cfg16_encodings.py").write_text(OWN_ENCODING)
    cfg = tmp_path / "search.toml"
    cfg.write_text('[encoding]\ntype = "cfg16_encodings:Small"\nmax_conv_blocks = 2\n')
    path_before = list(sys.path)
    with pytest.raises(ConfigError, match=r"^encoding\.type='cfg16_encodings:Small' is invalid: module "
                                          r"'cfg16_encodings' is outside evokit, .* allow_imports=True"):
        config.load(cfg)
    assert not (tmp_path / "imported.txt").exists() and "cfg16_encodings" not in sys.modules
    search = config.load(cfg, allow_imports=True)  # found beside the config file, no PYTHONPATH needed
    assert type(search.encoding).__name__ == "Small" and search.encoding.max_conv_blocks == 2
    assert (tmp_path / "imported.txt").exists()
    assert sys.path == path_before  # the config's directory was on the path only during the import


OWN_OBJECTIVES = """
def score(evaluation):
    return float(evaluation.params) / 1000
"""


def test_a_configs_own_objective_module_beside_it(tmp_path):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "cfg16_objectives.py").write_text(OWN_OBJECTIVES)
    cfg = folder / "search.toml"
    cfg.write_text('[[objectives]]\ntype = "cfg16_objectives:score"\nweight = -1.0\nneeds_training = false\n')
    search = config.load(cfg, allow_imports=True)
    objective = search.objectives[0]
    assert objective.name == "score" and objective.weight == -1.0 and objective.needs_training is False
    spec = ek.encodings.DeepGA().decode(ek.encodings.DeepGA().random(), (8, 8, 1), 10)
    assert objective.compute(ek.Evaluation(spec)) == spec.params / 1000
    same = config.loads(cfg.read_text(), base_dir=folder, allow_imports=True)  # from_dict/loads: base_dir
    assert same.objectives[0].fn is objective.fn
    other = tmp_path / "other"  # another config's module of the same name is its own
    other.mkdir()
    (other / "cfg16_objectives.py").write_text("def score(evaluation):\n    return -1.0\n")
    assert config.loads(cfg.read_text(), base_dir=other, allow_imports=True).objectives[0].fn(None) == -1.0


def test_dask_keys_that_reach_outside_need_the_opt_in():
    for key, value in (("address", "tcp://203.0.113.7:8786"), ("cluster_kwargs", {"preload": ["evil.py"]})):
        doc = {"evaluator": {"type": "dask", key: value}}
        with pytest.raises(ConfigError, match=rf"^evaluator\.{key}=.* is invalid: it hands control to code "
                                              "outside evokit, .* allow_imports=True"):
            config.from_dict(doc)
        assert getattr(config.from_dict(doc, allow_imports=True).evaluator, key) == value


@pytest.mark.parametrize("text, message", [
    ("[algorithm]\ntype = 'ga'\npopulaton = 3",
     "algorithm.populaton: unknown key; allowed: type, population, generations"),
    ("[algorithm]\ntype = 'ga'\npopulation = 1", "algorithm.population=1 is invalid: expected an integer >= 2"),
    ("[algorithm]\ntype = 'ga'\ngenerations = '5'", "algorithm.generations='5' is invalid: expected an integer"),
    ("[algorithm]\ntype = 'simulated_annealing'",
     "algorithm.type='simulated_annealing' is invalid: expected one of 'ga', 'nsga2', 'nsga3', 'neat', 'pso', 'gp', "
     "'aging', 'random'"),
    ("[algorithm]\npopulation = 4", "algorithm.type: missing"),
    ("[algorithm]\ntype = 'evokit.no_such_module:X'", "algorithm.type='evokit.no_such_module:X' is not available"),
    ("[algorithm]\ntype = 'no_such_module:X'",
     "algorithm.type='no_such_module:X' is invalid: module 'no_such_module' is outside evokit"),
    ("[encoding]\ntype = 'deepga'\nfilters = []", "encoding.filters=[] is invalid: expected a non-empty list"),
    ("[encoding]\ntype = 'deepgaa'", "encoding.type='deepgaa' is invalid: expected one of 'deepga', 'binary'"),
    ("[[objectives]]\ntype = 'accuracy'\nepoch = 2",
     "objectives[0].epoch: unknown key; allowed: type, weight, name, epochs"),
    ("[[objectives]]\ntype = 'params'\n[[objectives]]\ntype = 'accuracy'\nepochs = 0",
     "objectives[1].epochs=0 is invalid: expected an integer >= 1"),
    ("[[objectives]]\ntype = 'params'\nweight = 0", "objectives[0].weight=0 is invalid: expected a non-zero number"),
    ("[[objectives]]\ntype = 'deepga_score'\naccuracy = { epochs = 0 }",
     "objectives[0].accuracy.epochs=0 is invalid"),
    ("[[objectives]]\ntype = 'co2'\nmode = 'guessed'", "objectives[0].mode='guessed' is invalid: expected one of"),
    ("[[constraints]]\ntype = 'max_params'", "constraints[0].limit: missing; this key is required"),
    ("[budget]\ngenerations = -1", "budget.generations=-1 is invalid: expected an integer >= 0"),
    ("[budget]\nepochs = 3", "budget.epochs: unknown key; allowed: generations, evaluations, seconds, target"),
    ("[evaluator]\ntype = 'processes'\nworkers = 0", "evaluator.workers=0 is invalid: expected an integer >= 1"),
    ("[evaluator]\ntype = 'serial'\nworkers = 2", "evaluator.workers: unknown key; allowed: type"),
    ("[evaluator]\ntype = 'gpu'", "evaluator.type='gpu' is invalid: expected one of 'serial', 'processes', 'dask'"),
    ("[data]\nname = 'imagenet'", "data.name='imagenet' is invalid: expected one of 'digits'"),
    ("[data]\nname = 'digits'\nn_train = 0", "data.n_train=0 is invalid"),
    ("[data]\nname = 'digits'\ntarget = 'y'", "data.target: applies to a data file"),
    ("[data]\npath = 'nope.csv'", "data.path='nope.csv' is invalid: no such file"),
    ("seeds = 1", "seeds: unknown key; allowed: description, seed, run_dir"),
    ("seed = -1", "seed=-1 is invalid"),
    ("final_training = 'long'", "final_training='long' is invalid"),
    ("objectives = []", "objectives=[] is invalid"),
    ("[[objectives]]\ntype = 'accuracy'\n[algorithm]\ntype = 'nsga2'", "NSGA2 needs 2 or more"),
    ("seed = [", "config is invalid: not valid TOML"),
    ("[algorithm]\ntype = 'ga'\npopulation = 10000000000",
     "algorithm.population=10000000000 is invalid: expected an integer <= 100000"),
    ("[algorithm]\ntype = 'ga'\noffspring = 100001",
     "algorithm.offspring=100001 is invalid: expected an integer <= 100000"),
    ("[algorithm]\ntype = 'random'\nbatch = 10000000000",
     "algorithm.batch=10000000000 is invalid: expected an integer <= 100000"),
    ("[[objectives]]\ntype = 'accuracy'\nbatch_size = 10000000",
     "objectives[0].batch_size=10000000 is invalid: expected an integer <= 1000000"),
    ("[[objectives]]\ntype = 'accuracy'\nepochs = 10000000000",
     "objectives[0].epochs=10000000000 is invalid: expected an integer <= 10000"),
    ("final_training = 10000000000", "final_training.epochs=10000000000 is invalid: expected an integer <= 10000"),
    ("final_training = { epochs = 3, batch_size = 2000000 }",
     "final_training.batch_size=2000000 is invalid: expected an integer <= 1000000"),
])
def test_errors_name_the_key_path_and_what_is_allowed(text, message):
    with pytest.raises((ConfigError, DataError)) as info:
        config.loads(text)
    assert message in str(info.value)


@pytest.mark.parametrize("make, field", [(lambda n, cls=cls: cls(population=n), "population") for cls in (
    ek.algorithms.GA, ek.algorithms.NSGA2, ek.algorithms.NSGA3, ek.algorithms.NEAT, ek.algorithms.PSO,
    ek.algorithms.GP, ek.algorithms.AgingEvolution)] + [
    (lambda n: ek.algorithms.GA(offspring=n), "offspring"), (lambda n: ek.algorithms.GP(offspring=n), "offspring"),
    (lambda n: ek.algorithms.RandomSearch(batch=n), "batch")])
def test_population_sizes_have_one_upper_bound_checked_at_construction(make, field):
    from evokit.algorithms.base import MAX_POPULATION

    assert MAX_POPULATION == 100_000
    make(MAX_POPULATION)  # the bound itself is allowed
    with pytest.raises(ConfigError, match=rf"^{field}=10000000000 is invalid: expected an integer <= 100000$"):
        make(10_000_000_000)


def test_training_settings_have_upper_bounds():
    from evokit.evaluation import MAX_BATCH_SIZE, MAX_EPOCHS

    ek.TrainingConfig(epochs=MAX_EPOCHS, batch_size=MAX_BATCH_SIZE, early_stopping=MAX_EPOCHS)
    for key, value in (("epochs", MAX_EPOCHS + 1), ("batch_size", MAX_BATCH_SIZE + 1),
                       ("early_stopping", MAX_EPOCHS + 1)):
        with pytest.raises(ConfigError, match=rf"^{key}={value} is invalid: expected an integer <= "):
            ek.TrainingConfig(**{key: value})


def test_load_of_a_missing_file_names_it(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        config.load(tmp_path / "missing.toml")


def test_data_from_csv_and_npz_files_relative_to_the_config(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).round(3)
    labels = np.array(["cat", "dog", "eel"])[np.arange(60) % 3]
    rows = ["a,b,label,c"] + [f"{r[0]},{r[1]},{lab},{r[2]}" for r, lab in zip(x, labels)]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "animals.csv").write_text("\n".join(rows) + "\n")
    cfg = tmp_path / "search.toml"
    cfg.write_text('[data]\npath = "data/animals.csv"\ntarget = "label"\nseed = 1\nn_train = 20\n')
    data = config.load(cfg).data
    assert data.name == "animals" and data.classes == ("cat", "dog", "eel") and data.input_shape == (3,)
    assert len(data.x_train) == 20 and len(data.x_train) + len(data.x_val) + len(data.x_test) < 60
    np.savez(tmp_path / "arrays.npz", X=x.astype("float32"), y=np.arange(60) % 3)
    data = config.from_dict({"data": {"path": "arrays.npz", "test_size": 0.5}}, base_dir=tmp_path).data
    assert data.n_classes == 3 and len(data.x_test) == 30
    with pytest.raises(ConfigError, match="data.target='nope' is invalid: expected one of the columns 'a', 'b'"):
        config.from_dict({"data": {"path": "data/animals.csv", "target": "nope"}}, base_dir=tmp_path)
    np.savez(tmp_path / "bad.npz", inputs=x)
    with pytest.raises(DataError, match="expected arrays named X and y"):
        config.from_dict({"data": {"path": "bad.npz"}}, base_dir=tmp_path)


def test_a_search_from_a_config_runs(tmp_path):
    search = config.from_dict({"objectives": ["params"], "algorithm": {"type": "ga", "population": 4},
                               "budget": {"generations": 2}, "encoding": {"type": "deepga", "max_conv_blocks": 2},
                               "run_dir": str(tmp_path / "r")})
    search.progress = False
    result = search.run()
    assert [row["gen"] for row in result.history] == [0, 1, 2]
    assert result.best.values["params"] == min(c.values["params"] for c in result.hall_of_fame)


def test_initial_population_from_a_previous_runs_records_seeds_the_first_population(tmp_path):
    first = config.from_dict({"objectives": ["params"], "algorithm": {"type": "ga", "population": 3},
                              "budget": {"generations": 0}, "encoding": {"type": "deepga", "max_conv_blocks": 2},
                              "run_dir": str(tmp_path / "a")})
    first.progress = False
    first.run()
    records = [json.loads(line) for line in (tmp_path / "a" / "candidates.jsonl").read_text().splitlines()]
    genotypes = [r["genotype"] for r in records][:2]
    (tmp_path / "again.json").write_text(json.dumps({
        "initial_population": genotypes, "objectives": ["params"], "algorithm": {"type": "ga", "population": 3},
        "budget": {"generations": 0}, "encoding": {"type": "deepga", "max_conv_blocks": 2}, "run_dir": "b"}))
    search = config.load(tmp_path / "again.json")
    assert [search.encoding.to_json(g) for g in search.initial_population] == genotypes
    search.progress, search.run_dir = False, tmp_path / "b"
    search.run()
    again = [json.loads(line) for line in (tmp_path / "b" / "candidates.jsonl").read_text().splitlines()]
    assert [r["genotype"] for r in again][:2] == genotypes
    described = config.from_dict({"initial_population": search.config()["initial_population"],
                                  "encoding": {"type": "deepga", "max_conv_blocks": 2}})
    assert described.initial_population == search.initial_population
    documented = config.loads('initial_population = [\n  {conv = [{filters = 8, kernel_size = 3, pool = "max", '
                              'pool_size = 2, activation = "relu", stride = 1}], dense = [], skips = [], '
                              'head = "global_avg"},\n]')
    assert documented.initial_population[0].conv[0].filters == 8
    broken = [genotypes[0], {**genotypes[1], "conv": [{"filters": -3, "kernel_size": 3}]}]
    with pytest.raises(ConfigError, match=r"initial_population\[1\].*filters"):
        config.from_dict({"initial_population": broken, "encoding": {"type": "deepga"}})
    with pytest.raises(ConfigError, match=r"initial_population\[0\]"):
        config.from_dict({"initial_population": [{"layers": []}], "encoding": {"type": "deepga"}})
    with pytest.raises(ConfigError, match="initial_population=.*expected a list"):
        config.from_dict({"initial_population": {"conv": []}})

    class Unreadable(ek.encodings.Binary):  # an encoding of a user's that writes genotypes but cannot read them
        def from_json(self, data):
            raise NotImplementedError("no")

    with pytest.raises(ConfigError, match=r"initial_population\[0\] is invalid with encoding Unreadable.*from_json"):
        config.build_initial_population([[0, 1]], Unreadable())


def test_merged_changes_dotted_keys_without_touching_the_original():
    original = {"algorithm": "ga", "budget": {"generations": 3}}
    changed = config.merged(original, **{"algorithm.population": 6, "budget.seconds": 10, "seed": 2})
    assert changed == {"algorithm": {"type": "ga", "population": 6}, "budget": {"generations": 3, "seconds": 10},
                       "seed": 2}
    assert original == {"algorithm": "ga", "budget": {"generations": 3}}


def _section(doc: str, part: str, name: str) -> str:
    """The part of docs/config.md's ``## part`` about ``type = "name"``: its heading's section or
    its table row."""
    doc = re.search(rf"^## {part}\n(.*?)(?=^## |\Z)", doc, re.S | re.M).group(1) + "\n## end"
    heading = re.search(rf'^###[^\n]*`type = "{name}"`[^\n]*\n(.*?)(?=^##)', doc, re.S | re.M)
    if heading:
        return heading.group(1)
    row = re.search(rf'^\| `"{name}"`[^\n]*', doc, re.M)
    assert row, f"docs/config.md does not document type {name!r}"
    return row.group(0)


def test_the_schema_documents_every_type_and_every_key():
    doc = (ROOT / "docs" / "config.md").read_text()
    for key in config.TOP_LEVEL + config.DATA_KEYS + config.BUDGET_KEYS + config.TRAINING_KEYS:
        assert any(f"`{form}`" in doc for form in (key, f"[{key}]", f"[[{key}]]")), key
    tables = {"encoding": config.ENCODINGS, "algorithm": config.ALGORITHMS, "objectives": config.OBJECTIVES,
              "constraints": config.CONSTRAINTS, "evaluator": config.EVALUATORS,
              "callbacks": config.CALLBACKS}
    for part, table in tables.items():
        for name, spec in table.items():
            if name == "graph":  # another name for neat
                continue
            section = _section(doc, part, name)
            cls = config.resolve(spec)
            for param in inspect.signature(cls).parameters:
                if param in ("client", "scales", "terms") or param in config.TRAINING_KEYS and name in (
                        "accuracy", "loss"):
                    continue  # the Python-only client; weighted_sum's terms/scales; the training keys' own table
                assert f"`{param}`" in section, f"docs/config.md: {name}: key {param!r} is not documented"


# --- [data] for texts (issue 19) ------------------------------------------------------------

def test_data_texts_from_a_csv_or_a_folder_and_the_languages_name(tmp_path):
    rows = ["review,label"] + [f'"{w}, {w} film",{lab}' for lab, ws in (("pos", "good fun great"), ("neg", "dull bad slow"))
                               for w in ws.split() * 5]
    (tmp_path / "reviews.csv").write_text("\n".join(rows) + "\n")
    data = config.from_dict({"data": {"path": "reviews.csv", "text_column": "review", "vocab_size": 5,
                                      "sequence_length": 3, "n_train": 10}}, base_dir=tmp_path).data
    assert data.vocab_size == 5 and data.input_shape == (3,) and len(data.y_train) == 10
    assert data.classes == ("neg", "pos") and data.name == "reviews"
    for i, row in enumerate(rows[1:]):
        text, label = row.rsplit(",", 1)
        (tmp_path / "corpus" / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / "corpus" / label / f"{i}.txt").write_text(text.strip('"'))
    folder = config.loads('[data]\npath = "corpus"\nkind = "text_folder"\nseed = 2\n', base_dir=tmp_path).data
    assert folder.name == "corpus" and folder.vocab_size == 2 + 7  # six words and "film"
    assert config.build_data({"name": "languages"}) == "languages"  # a bare name: the search loads it


@pytest.mark.parametrize("section, error, message", [
    ({"name": "languages", "vocab_size": 10}, ConfigError, r"^data\.vocab_size: applies to a data file"),
    ({"name": "digits", "kind": "text_folder"}, ConfigError, r"^data\.kind: applies to a data file"),
    ({"path": "reviews.csv", "text_column": "review", "vocab_size": 2}, ConfigError,
     r"^data\.vocab_size=2 is invalid: expected an integer >= 3"),
    ({"path": "reviews.csv", "text_column": "review", "sequence_length": 0}, ConfigError,
     r"^data\.sequence_length=0 is invalid"),
    ({"path": "reviews.csv", "text_column": "body"}, ConfigError,
     r"^data\.text_column='body' is invalid: expected one of the columns 'review', 'label'"),
    ({"path": "reviews.csv", "text_column": "review", "target": "stars"}, ConfigError,
     r"^data\.target='stars' is invalid: expected one of the columns"),
    ({"path": "reviews.csv", "kind": "text_folder"}, ConfigError, r"^data\.path='reviews.csv' is invalid: no such folder"),
    ({"path": "reviews.csv", "text_column": "review"}, DataError,
     r"^data: labels=<labels where class 'neg' has 1 sample\(s\)> is invalid"),
])
def test_bad_text_data_keys_name_the_key(tmp_path, section, error, message):
    (tmp_path / "reviews.csv").write_text('review,label\n"good, fun",pos\n"bad",neg\n"great",pos\n"fine",pos\n')
    with pytest.raises(error, match=message):
        config.build_data(section, base_dir=tmp_path)
