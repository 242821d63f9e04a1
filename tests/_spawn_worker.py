"""Functions run in spawned processes by the tests (importable by module name in the child)."""


def evaluate_in_child(toolbox_and_individual):
    toolbox, individual = toolbox_and_individual
    individual.fitness.values = toolbox.evaluate(individual)
    return individual


def roundtrip(individual):
    return individual
