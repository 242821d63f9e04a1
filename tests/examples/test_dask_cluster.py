"""examples/dask_cluster.py runs a real search on a LocalCluster it starts (tiny budget)."""


def test_dask_cluster_example_searches_and_prints_the_best_network(load_example, capsys):
    result = load_example("dask_cluster").main(population=2, generations=0, epochs=1, n_workers=1)
    out = capsys.readouterr().out
    assert "Dask cluster: 1 workers; dashboard: http" in out
    assert "Best network: " in out and "validation accuracy" in out
    assert 1 <= result.stats["trained"] <= 2 and sum(result.stats["failures"].values()) == 0
    assert result.best.values["val_accuracy"] > 0.1  # trained on digits in the worker: better than chance
