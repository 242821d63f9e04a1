"""Run records: the run directory (its files, written and read back), the run log (candidate
records, per-generation statistics, progress) and the checkpoint that lets a killed run go on.

The top room of the runtime: it reads outcomes from :mod:`evokit.runtime.candidates` and
nothing below imports it.
"""
