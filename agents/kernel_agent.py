"""The kernel agent: given the reference, the current best kernel, its metrics and the roofline
gap, writes a new Triton variant as a whole module. It hears back compile errors, mismatch
reports and timings (the previous attempt's trial) and, within one turn, the static checks'
rejection of what it just wrote, and tries again while the budget lasts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tuneforge.agents.calls import Budget, CallRecord, call
from tuneforge.agents.llm import LLMClient
from tuneforge.agents.parsing import extract_python, first_line_after
from tuneforge.core.space import Config
from tuneforge.core.types import Candidate

SYSTEM = """You are the kernel agent of an autotuner: you write Triton GPU kernels that are correct first, then fast.
Rules for the module you write:
- It defines `{function}(<the reference's inputs>, out, **config)` that launches your own @triton.jit kernel(s),
  writes the whole result into the preallocated `out` tensor and returns `out`. Inputs must stay unmodified.
- It may import only torch, triton, triton.language and math. From torch it may only allocate
  (torch.empty/zeros/... and their _like forms) and read tensor metadata (shape, stride, dtype, ...);
  every computation happens inside Triton kernels. No numpy, no os/sys/files/network, no getattr or
  introspection, no state kept between calls.
- Keep the precision of the problem's dtype (for fp32, tl.dot needs input_precision="ieee").
Reply with one line `IDEA: <one line: what this variant changes and why it is faster>` followed by one
```python code block holding the complete module."""


@dataclass
class KernelTask:
    target: str
    function: str
    description: str
    problem: str
    dtype: str
    device: str
    reference: str  # source of the reference and the input shapes
    current_kernel: str  # the best kernel so far (or the target's own implementation)
    current_metrics: str
    roofline: str
    config: Config  # the keyword arguments the variant will be called with


def prompt(task: KernelTask, feedback: str | None) -> str:
    parts = [f"Target: {task.target} ({task.description}) at {task.problem}, dtype {task.dtype}, on {task.device}.",
             f"Reference (ground truth):\n```python\n{task.reference}\n```",
             f"Current best kernel:\n```python\n{task.current_kernel}\n```",
             f"Its metrics: {task.current_metrics}", f"Roofline: {task.roofline}",
             f"Your function will be called with these keyword arguments: {task.config}"]
    if feedback:
        parts.append(f"Your previous attempt:\n{feedback}")
    parts.append("Write a new variant.")
    return "\n\n".join(parts)


class KernelAgent:
    def __init__(self, client: LLMClient, budget: Budget, *, origin: str,
                 screen: Callable[[str], str | None], rounds: int = 2) -> None:
        """``screen(source)`` returns why the code may not run (static checks), or None."""
        self.client, self.budget, self.origin = client, budget, origin
        self.screen, self.rounds = screen, rounds

    def write(self, task: KernelTask, feedback: str | None) -> tuple[Candidate | None, list[CallRecord]]:
        messages = [{"role": "system", "content": SYSTEM.format(function=task.function)},
                    {"role": "user", "content": prompt(task, feedback)}]
        records: list[CallRecord] = []
        for _ in range(self.rounds):
            if not self.budget.allows():
                break
            record = call(self.client, self.budget, "kernel", messages)
            records.append(record)
            if record.error:
                break
            idea = " ".join((first_line_after(record.response, "IDEA:") or "agent-written variant").split())[:200]
            try:
                source = extract_python(record.response, defines=task.function)
            except ValueError as exc:
                record.proposals.append({"note": idea, "fate": f"unparseable: {exc}"})
                problem = str(exc)
            else:
                problem = self.screen(source)
                entry = {"note": idea, "params": task.config, "source": source, "origin": self.origin}
                record.proposals.append({**entry, "fate": "queued" if problem is None else f"rejected: {problem}"})
                if problem is None:
                    return Candidate(dict(task.config), source=source, origin=self.origin, note=idea), records
            messages += [{"role": "assistant", "content": record.response},
                         {"role": "user", "content": f"That module cannot be used: {problem}. Fix it and answer "
                                                     "again in the same format."}]
        return None, records
