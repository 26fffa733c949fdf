"""Throughput and latency of governed queries against baselines measured in the same run.

Run `uv run --frozen python bench/run.py`; see `bench/run.py` for the options.
"""
