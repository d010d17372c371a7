"""Benchmarks behind `tuneforge bench ...`; each prints ratios measured side by side in one run.

Installed with the ``bench`` extra (Kernel Tuner and matplotlib for ``bench search``); the
commands that need it say so when it is missing.
"""
