"""What the agent strategies share for one job: the LLM client, the call budget, the config and
kernel agents, the knowledge base, and storing every call. Built on the job's first proposal."""

from __future__ import annotations

import ast
import random
from tuneforge.agents.calls import Budget, CallRecord
from tuneforge.agents.config_agent import ConfigAgent, ConfigTask
from tuneforge.agents.kernel_agent import KernelAgent, KernelTask
from tuneforge.agents.knowledge import distill
from tuneforge.agents.llm import LLMClient, LLMConfig
from tuneforge.core.types import Candidate
from tuneforge.db.agent_calls import AgentCallStore
from tuneforge.db.knowledge import knowledge_rows
from tuneforge.db.store import JobStore
from tuneforge.evaluators.agent_code.verify import static_verdict
from tuneforge.evaluators.registry import resolve_device, resolve_target
from tuneforge.kernels._triton_common import TritonTarget
from tuneforge.search.strategies._base import HistoryItem, StrategyContext

KERNEL_DEVICES = ("cpu", "cuda")  # devices that run agent-written source
REFERENCE_PARTS = {"reference", "input_shapes", "output_shape", "prepare_inputs"}


class AgentSession:
    def __init__(self, ctx: StrategyContext, *, strategy: str) -> None:
        opts, settings = ctx.options, ctx.settings
        self.ctx, self.strategy = ctx, strategy
        self.client = LLMClient(LLMConfig.from_settings(
            settings, timeout_s=float(opts.get("llm_timeout_s", 120)), max_retries=int(opts.get("llm_retries", 2)),
            usd_per_mtok_in=float(opts.get("llm_usd_per_mtok_in", 0)),
            usd_per_mtok_out=float(opts.get("llm_usd_per_mtok_out", 0))))
        self.store = AgentCallStore(settings.database_url)
        calls, tokens = self.store.spent(ctx.job_id)  # a resumed job keeps what it already spent
        self.budget = Budget(max_calls=int(opts.get("agent_calls", 12)),
                             max_tokens=int(opts.get("agent_tokens", 300_000)), calls=calls, tokens=tokens)
        device = resolve_device(ctx.device, settings)
        self.target = resolve_target(ctx.target_name, device)
        self.config_agent = ConfigAgent(self.client, self.budget, origin=f"{strategy}:config")
        self.kernel_agent = None
        if (isinstance(self.target, TritonTarget) and device.scheme in KERNEL_DEVICES
                and opts.get("kernel_agent", True)):
            self.kernel_agent = KernelAgent(self.client, self.budget, origin=f"{strategy}:kernel", screen=self._screen)
        best, trials = knowledge_rows(settings.database_url, family=self.target.family, device=ctx.device)
        self.knowledge = distill(best, trials, family=self.target.family, device=ctx.device).to_text(
            first=self.target.name)
        self.leaderboard = JobStore(settings.database_url).best_configs(target=self.target.name)
        self.proposed: set[tuple] = set()

    # -- config proposals -----------------------------------------------------------------------
    def configs(self, history: list[HistoryItem], n: int) -> list[Candidate]:
        if n <= 0 or not self.budget.allows():
            return []
        seen = self.proposed | self._seen(history)
        candidates, records = self.config_agent.propose(self._config_task(history), n, seen=seen)
        self.proposed |= {self.ctx.space.key(c.params) for c in candidates}
        self._store(records)
        return candidates

    def _config_task(self, history: list[HistoryItem]) -> ConfigTask:
        ctx = self.ctx
        objective = ", ".join(f"{o.direction} {o.metric}" for o in ctx.objectives)
        trials = [{"number": h.number, "params": h.candidate.params, "status": h.result.status.value,
                   "values": h.result.objective_values(ctx.objectives), "note": h.candidate.note} for h in history]
        return ConfigTask(target=self.target.name, description=self.target.description, problem=ctx.problem.key(),
                          device=ctx.device, objective=objective, space=ctx.space, trials=trials,
                          leaderboard=self.leaderboard, knowledge=self.knowledge)

    # -- kernel variants ------------------------------------------------------------------------
    def _seen(self, history: list[HistoryItem]) -> set[tuple]:
        return {self.ctx.space.key(h.candidate.params) for h in history}

    def kernel_ready(self) -> bool:
        return self.kernel_agent is not None and self.budget.allows()

    def kernel(self, history: list[HistoryItem]) -> Candidate | None:
        assert self.kernel_agent is not None
        candidate, records = self.kernel_agent.write(self._kernel_task(history), self._feedback(history))
        self._store(records)
        return candidate

    def _screen(self, source: str) -> str | None:
        rejected = static_verdict(source, function=self.target.function_name, dtype=self.ctx.problem.dtype)
        return None if rejected is None else f"rule {rejected.rule}: {rejected.message}"

    def _best(self, history: list[HistoryItem], *, with_source: bool) -> HistoryItem | None:
        ok = [h for h in history if h.result.objective_values(self.ctx.objectives) is not None
              and (h.candidate.source is not None or not with_source)]
        if not ok:
            return None
        first = self.ctx.objectives[0]
        return min(ok, key=lambda h: h.result.objective_values(self.ctx.objectives)[0]
                   * (1 if first.direction == "minimize" else -1))

    def _kernel_task(self, history: list[HistoryItem]) -> KernelTask:
        ctx = self.ctx
        target = self.target
        assert isinstance(target, TritonTarget)
        best_kernel = self._best(history, with_source=True)
        best_any = self._best(history, with_source=False)
        # A variant runs at the best config so far: the engine tells a new source at a tried config
        # apart from the config itself, and the two compare like for like.
        config = dict(best_any.candidate.params) if best_any else ctx.space.sample_valid(random.Random(ctx.seed))
        metrics = best_any.result.metrics if best_any else {}
        return KernelTask(
            target=target.name, function=target.function_name, description=target.description,
            problem=ctx.problem.key(), dtype=ctx.problem.dtype or "fp32", device=ctx.device,
            reference=_reference_source(target.impl_source()),
            current_kernel=best_kernel.candidate.source if best_kernel else target.impl_source(),
            current_metrics=str(metrics) if metrics else "no trial has passed yet",
            roofline=_roofline(target, ctx, metrics), config=config)

    def _feedback(self, history: list[HistoryItem]) -> str | None:
        mine = [h for h in history if h.candidate.origin == f"{self.strategy}:kernel"]
        if not mine:
            return None
        last = mine[-1]
        return (f"trial #{last.number}: {last.result.status.value}\n{last.result.log[-1500:]}\n"
                f"metrics: {last.result.metrics or 'none'}")

    def _store(self, records: list[CallRecord]) -> None:
        for record in records:
            self.store.record(self.ctx.job_id, strategy=self.strategy, **record.to_dict())


def _reference_source(module_text: str) -> str:
    """The reference, the input shapes and the module constants of a target's implementation."""
    tree = ast.parse(module_text)
    parts = [ast.get_source_segment(module_text, node) for node in tree.body
             if (isinstance(node, ast.FunctionDef) and node.name in REFERENCE_PARTS) or isinstance(node, ast.Assign)]
    return "import torch\n\n" + "\n\n".join(p for p in parts if p)


def _roofline(target: TritonTarget, ctx: StrategyContext, metrics: dict[str, float]) -> str:
    work = f"{target.flops(ctx.problem) or 0:.3g} FLOPs and {target.bytes(ctx.problem) or 0:.3g} bytes at this problem"
    if "roofline_ms" in metrics and "time_ms" in metrics:
        return (f"{work}; best {metrics['time_ms']:.4g} ms against a roofline bound of {metrics['roofline_ms']:.4g} ms "
                f"({metrics.get('fraction_of_roofline', 0):.0%} of the speed of light)")
    return f"{work}; {ctx.device} reports no timings, so correctness is what counts here"
