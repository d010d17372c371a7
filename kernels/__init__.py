"""Targets: Triton kernel templates, quantization layouts, accelerator workloads.

Each subpackage that exposes ``TARGETS`` is a target family; see ``kernels/_base.py``.
"""
