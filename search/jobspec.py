"""A job request, validated against the registries before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tuneforge.core.constraints import MetricConstraint
from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Objective, Problem, parse_shape
from tuneforge.evaluators.agent_code.reference_checks import check_bundle_sources
from tuneforge.evaluators.registry import resolve_device, resolve_target
from tuneforge.kernels.bundle import BundleTarget, owner_label, parse_bundle
from tuneforge.search.strategies import get_strategy


@dataclass
class JobSpec:
    target: str
    family: str
    problem: Problem
    device: str
    strategy: str
    objectives: list[Objective]
    constraints: list[MetricConstraint]
    budget_trials: int
    budget_seconds: float | None
    parallelism: int
    seed: int
    options: dict[str, Any] = field(default_factory=dict)
    bundle: dict[str, Any] | None = None  # a submitted bundle's canonical document (the target is made of it)
    bundle_sha256: str | None = None
    bundle_owner: str | None = None


def build_job_spec(settings: Settings, *, target: str | None, device: str, strategy: str = "bandit",
                   shape: str | dict[str, int] | None = None, dtype: str | None = None,
                   extra: dict[str, str] | None = None, objectives: list[str] | None = None,
                   constraints: list[str] | None = None, trials: int = 100, seconds: float | None = None,
                   parallelism: int = 1, seed: int = 0, options: dict[str, Any] | None = None,
                   bundle: dict[str, Any] | None = None, account: str | None = None) -> JobSpec:
    """Validate a request; raises UserInputError naming what to change. ``bundle`` (a submitted kernel as
    data) takes the place of ``target``; it is parsed and statically checked here, never run."""
    if trials < 1:
        raise UserInputError(f"trials (--trials) must be at least 1, got {trials}")
    if trials > settings.max_trials:
        raise UserInputError(f"trials (--trials) {trials} exceeds this server's limit of {settings.max_trials} "
                             "(TUNEFORGE_MAX_TRIALS)")
    if seconds is not None and not 0 < seconds <= settings.max_seconds:
        raise UserInputError(f"seconds (--seconds) must be in (0, {settings.max_seconds:g}], got {seconds:g}")
    if not 1 <= parallelism <= 1024:
        raise UserInputError(f"parallelism (--parallel) must be between 1 and 1024, got {parallelism}")
    if seed < 0:
        raise UserInputError(f"seed (--seed) must be a non-negative integer, got {seed}")
    dev = resolve_device(device, settings)
    tgt = _bundle_target(bundle, target, account) if bundle is not None else resolve_target(target, dev)
    dims = parse_shape(shape) if isinstance(shape, str) or shape is None else dict(shape)
    problem = tgt.parse_problem(dims, dtype, extra)
    dev.check_target(tgt, problem)
    if isinstance(tgt, BundleTarget):
        check_bundle_sources(tgt.bundle.kernel, tgt.function_name, tgt.bundle.reference, dtype=problem.dtype)
    strat = get_strategy(strategy)
    if strat.needs_llm and not (settings.llm_base_url and settings.llm_model):
        raise UserInputError(f"strategy {strategy!r} needs an LLM endpoint: set TUNEFORGE_LLM_BASE_URL "
                             "(an OpenAI-compatible URL ending in /v1), TUNEFORGE_LLM_MODEL and "
                             "TUNEFORGE_LLM_API_KEY")
    chosen = _choose_objectives(tgt.objectives, objectives)
    if len(chosen) > 1 and not strat.multi_objective:
        raise UserInputError(f"strategy {strategy!r} optimises one objective; for {len(chosen)} objectives use "
                             "nsga2, tpe or random")
    parsed_constraints = [MetricConstraint.parse(c) for c in [*tgt.default_constraints, *(constraints or [])]]
    spec = JobSpec(target=tgt.name, family=tgt.family, problem=problem, device=dev.spec, strategy=strat.name,
                   objectives=chosen, constraints=parsed_constraints, budget_trials=trials,
                   budget_seconds=seconds, parallelism=parallelism, seed=seed, options=dict(options or {}))
    if isinstance(tgt, BundleTarget):
        spec.bundle, spec.bundle_sha256, spec.bundle_owner = tgt.bundle.document, tgt.bundle.sha256, tgt.owner
    return spec


def _bundle_target(bundle: dict[str, Any], target: str | None, account: str | None) -> BundleTarget:
    if target is not None:
        raise UserInputError("give a target name or a bundle, not both")
    return BundleTarget(parse_bundle(bundle), owner=owner_label(account))


def _choose_objectives(available: tuple[Objective, ...], names: list[str] | None) -> list[Objective]:
    if not names:
        return [available[0]]
    chosen = []
    for name in names:
        match = [o for o in available if o.metric == name or o.metric.split("_")[0] == name]
        if not match:
            raise UserInputError(f"unknown objective {name!r}; this target reports "
                                 f"{', '.join(o.metric for o in available)}")
        chosen.append(match[0])
    return chosen
