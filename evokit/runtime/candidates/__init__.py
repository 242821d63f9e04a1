"""Candidates: from genotypes to fitness values. Decode, look up the fitness cache, plan the new
networks' training (successive halving, inherited weights), hand them to an executor, score
and remember the outcomes.

Imports :mod:`evokit.runtime.executors` (where training runs) and nothing above it.
"""
