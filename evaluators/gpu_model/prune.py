"""Ranking a space with the analytical model, to spend real timing only on promising configs."""

from __future__ import annotations

from collections.abc import Iterable

from tuneforge.core.space import Config
from tuneforge.core.types import Problem
from tuneforge.evaluators.gpu_model.model import Prediction, predict
from tuneforge.evaluators.gpu_model.specs import GPUS, GpuSpec
from tuneforge.kernels._triton_common import TritonTarget


def predict_config(target: TritonTarget, problem: Problem, config: Config, spec: GpuSpec) -> Prediction:
    return predict(target.launch_profile(problem, config), spec, target.min_bytes(problem, config))


def rank_configs(target: TritonTarget, problem: Problem, gpu: str | GpuSpec,
                 configs: Iterable[Config] | None = None, keep: int | None = None) -> list[tuple[Config, Prediction]]:
    """Configs (default: the whole valid space) the modelled GPU can run, fastest modelled first; the best ``keep``."""
    spec = gpu if isinstance(gpu, GpuSpec) else GPUS[gpu]
    pool = target.space(problem).valid_configs() if configs is None else configs
    ranked = [(c, pred) for c in pool if (pred := predict_config(target, problem, c, spec)).valid]
    ranked.sort(key=lambda item: item[1].time_ms)
    return ranked if keep is None else ranked[:keep]
