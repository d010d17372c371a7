"""The config agent: reads the target, its space, the device, the trials so far, the leaderboard
and the knowledge base, and proposes configs as JSON, each with a one-line reason. Proposals are
validated against the space; when none is usable it gets one chance to repair them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tuneforge.agents.calls import Budget, CallRecord, call
from tuneforge.agents.llm import LLMClient
from tuneforge.agents.parsing import parse_json
from tuneforge.core.space import Config, Space
from tuneforge.core.types import Candidate
from tuneforge.db.records import BestConfigRecord

SYSTEM = """You are the config agent of an autotuner for GPU kernels and hardware designs.
You propose configurations (points of a discrete parameter space) that are likely to beat the results so far.
Answer with JSON only, in this form:
{"proposals": [{"params": {"NAME": VALUE, ...}, "reason": "one line: why this should be fast"}]}
Every proposal must give a value for every parameter, taken from that parameter's list, and satisfy the constraints.
Do not repeat configurations that were already tried."""


@dataclass
class ConfigTask:
    target: str
    description: str
    problem: str
    device: str
    objective: str
    space: Space
    trials: list[dict[str, Any]] = field(default_factory=list)  # number, params, status, values, note
    leaderboard: list[BestConfigRecord] = field(default_factory=list)
    knowledge: str = ""


def prompt(task: ConfigTask, n: int) -> str:
    described = task.space.describe()
    ok = sorted((t for t in task.trials if t["status"] == "ok" and t["values"]), key=lambda t: t["values"][0])
    failed = [t for t in task.trials if t["status"] != "ok"]
    lines = [f"Target: {task.target} ({task.description})", f"Problem: {task.problem}", f"Device: {task.device}",
             f"Objective: {task.objective}",
             f"Parameters: {json.dumps(described['params'])}",
             "Constraints: " + ("; ".join(described["constraints"]) or "none"),
             f"Trials so far: {len(task.trials)} ({len(ok)} ok)"]
    lines += [f"  best #{t['number']}: {t['values'][0]:.5g} with {json.dumps(t['params'])}" for t in ok[:8]]
    lines += [f"  failed #{t['number']} ({t['status']}): {json.dumps(t['params'])}" for t in failed[-5:]]
    if task.leaderboard:
        lines.append("Leaderboard (best known configs of this target):")
        lines += [f"  {b.problem_key} on {b.device}: {b.value:.5g} {b.metric} with {json.dumps(b.params)}"
                  for b in task.leaderboard[:8]]
    lines += ["What worked before (knowledge base):", task.knowledge or "nothing yet",
              f"Propose {n} new configuration(s)."]
    return "\n".join(lines)


def coerce(space: Space, raw: Any) -> Config | str:
    """The proposal as a config of the space's own value types, or why it cannot be one."""
    if not isinstance(raw, dict):
        return "params must be a JSON object"
    config: Config = {}
    for name, value in raw.items():
        if name not in space.names:
            return f"unknown parameter {name!r}; the parameters are {space.names}"
        config[name] = next((v for v in space.param(name).values if v == value or str(v) == str(value)), value)
    problems = space.violations(config)
    return "; ".join(problems) if problems else config


class ConfigAgent:
    def __init__(self, client: LLMClient, budget: Budget, *, origin: str) -> None:
        self.client, self.budget, self.origin = client, budget, origin

    def propose(self, task: ConfigTask, n: int, *, seen: set[tuple]) -> tuple[list[Candidate], list[CallRecord]]:
        """Up to ``n`` valid, unseen candidates; one repair round when a reply yields none."""
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt(task, n)}]
        records: list[CallRecord] = []
        for _ in range(2):
            if not self.budget.allows():
                break
            record = call(self.client, self.budget, "config", messages)
            records.append(record)
            if record.error:
                break
            candidates, complaints = self._read(task.space, record, n, seen)
            if candidates:
                return candidates, records
            messages += [{"role": "assistant", "content": record.response},
                         {"role": "user", "content": "None of those can be used: " + "; ".join(complaints)
                          + f". Answer again with {n} valid, untried proposal(s), JSON only."}]
        return [], records

    def _read(self, space: Space, record: CallRecord, n: int,
              seen: set[tuple]) -> tuple[list[Candidate], list[str]]:
        try:
            data = parse_json(record.response)
        except ValueError as exc:
            record.proposals.append({"fate": f"unparseable: {exc}"})
            return [], [str(exc)]
        items = data.get("proposals", []) if isinstance(data, dict) else data if isinstance(data, list) else []
        candidates: list[Candidate] = []
        complaints: list[str] = []
        for item in items if isinstance(items, list) else []:
            raw = item.get("params") if isinstance(item, dict) else None
            reason = " ".join(str(item.get("reason", "") if isinstance(item, dict) else "").split())[:200]
            config = coerce(space, raw)
            entry: dict[str, Any] = {"params": raw, "note": reason}
            if isinstance(config, str):
                entry["fate"] = f"invalid: {config}"
            elif space.key(config) in seen:
                entry["fate"] = "duplicate: already tried or proposed"
            elif len(candidates) >= n:
                entry["fate"] = "surplus: more proposals than asked for"
            else:
                seen.add(space.key(config))
                candidates.append(Candidate(config, origin=self.origin, note=reason))
                entry.update(params=config, origin=self.origin, source=None, fate="queued")
            if entry["fate"] != "queued":
                complaints.append(f"{json.dumps(raw)}: {entry['fate']}")
            record.proposals.append(entry)
        if not items:
            complaints.append("the reply has no proposals")
        return candidates, complaints
