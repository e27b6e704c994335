"""Stepline's benchmark: the embedded engine against moto's ASL interpreter.

Run it with `python -m bench` (or `python bench/run.py`); see docs/benchmarks.md.
"""
