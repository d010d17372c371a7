"""Quantization layouts of real trained models, costed on ``sim:systolic``, alone or
co-designed with the accelerator's hardware."""

from tuneforge.kernels.quant.target import CodesignTarget, QuantTarget

TARGETS = [QuantTarget(), CodesignTarget()]
