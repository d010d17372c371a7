"""Accelerator design-space exploration: a systolic array's hardware parameters tuned for a
named workload (CNN layers, transformer blocks, GEMM lists), scored on ``sim:systolic``."""

from tuneforge.kernels.accel.target import AccelTarget

TARGETS = [AccelTarget()]
