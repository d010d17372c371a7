"""What worked, per target family and device: distilled from best configs and trials, rendered
for prompts and for people (``tuneforge knowledge``, ``GET /api/v1/knowledge/{target}``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from tuneforge.db.records import BestConfigRecord

TOP_FRACTION = 0.25  # a parameter value "works" when it is common among the best quarter of ok trials


@dataclass
class TargetKnowledge:
    target: str
    device: str
    trials: int
    ok: int
    best: list[dict[str, Any]] = field(default_factory=list)  # per problem: value, metric, params, strategy
    tendencies: dict[str, str] = field(default_factory=dict)  # param -> "128 in 7 of 9 best trials"
    failures: list[str] = field(default_factory=list)  # most frequent failure reasons
    kernel_ideas: list[str] = field(default_factory=list)  # notes of agent kernels that passed


@dataclass
class Knowledge:
    family: str
    device: str | None
    targets: list[TargetKnowledge]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_text(self, *, first: str | None = None, max_chars: int = 4000) -> str:
        """Plain text for a prompt; ``first`` puts one target's section ahead of the others."""
        if not self.targets:
            return "No earlier results for this family and device."
        ordered = sorted(self.targets, key=lambda t: (t.target != first, t.target, t.device))
        lines: list[str] = []
        for t in ordered:
            lines.append(f"{t.target} on {t.device}: {t.ok} of {t.trials} trials ok")
            lines += [f"  best at {b['problem']}: {b['value']:.5g} {b['metric']} with {b['params']} ({b['strategy']})"
                      for b in t.best]
            lines += [f"  {name}: {text}" for name, text in t.tendencies.items()]
            lines += [f"  failed: {reason}" for reason in t.failures]
            lines += [f"  kernel idea that passed: {idea}" for idea in t.kernel_ideas]
        text = "\n".join(lines)
        return text if len(text) <= max_chars else text[:max_chars] + "\n  ..."


def distill(best_configs: list[BestConfigRecord], trials: list[dict[str, Any]], *, family: str,
            device: str | None) -> Knowledge:
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for trial in trials:
        groups[(trial["target"], trial["device"])].append(trial)
    for best in best_configs:
        groups.setdefault((best.target, best.device), [])
    targets = []
    for (target, dev), rows in sorted(groups.items()):
        ok = [r for r in rows if r["status"] == "ok" and r["feasible"] and r["values"]]
        entry = TargetKnowledge(target=target, device=dev, trials=len(rows), ok=len(ok))
        entry.best = [{"problem": b.problem_key, "value": b.value, "metric": b.metric, "params": b.params,
                       "strategy": b.strategy}
                      for b in best_configs if b.target == target and b.device == dev]
        entry.tendencies = _tendencies(ok)
        entry.failures = _failures(rows)
        entry.kernel_ideas = sorted({r["note"] for r in ok if r["has_source"] and r["note"]})[:5]
        targets.append(entry)
    return Knowledge(family=family, device=device, targets=targets)


def _tendencies(ok: list[dict[str, Any]]) -> dict[str, str]:
    # Lower is better for the first objective of every job that shares a problem; rank per problem.
    by_problem: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in ok:
        by_problem[row["problem_key"]].append(row)
    top: list[dict[str, Any]] = []
    for rows in by_problem.values():
        rows.sort(key=lambda r: r["values"][0])
        top += rows[:max(1, int(len(rows) * TOP_FRACTION))]
    if len(top) < 2:
        return {}
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in top:
        for name, value in row["params"].items():
            counts[name][repr(value)] += 1
    out = {}
    for name, counter in sorted(counts.items()):
        value, n = counter.most_common(1)[0]
        if n >= max(2, len(top) // 2):
            out[name] = f"{value} in {n} of the {len(top)} best trials"
    return out


def _failures(rows: list[dict[str, Any]]) -> list[str]:
    reasons = Counter(f"{r['status']}: {(r['log'] or '').splitlines()[0][:120] if r['log'] else 'no log'}"
                      for r in rows if r["status"] != "ok")
    return [f"{reason} ({n}x)" for reason, n in reasons.most_common(3)]
