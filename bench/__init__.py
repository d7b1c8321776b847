"""Benchmarks (not tests): ``python -m bench NAME`` writes JSON figures into ``bench/results/NAME.json``.

The package imports ``core`` (and ``app`` for the GUI benchmarks); neither ever imports it.
"""
