"""Benchmarks: listserv against the physical limit of each path on this machine.

`python -m bench` (or `listserv-bench`) runs them; see bench/__main__.py.
"""
