"""Agent calls of a job: written once per LLM call, read with each proposal joined to its trial."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import func, select

from tuneforge.db.models import AgentCall, Trial
from tuneforge.db.session import session_scope
from tuneforge.db.records import AgentCallRecord, from_row


class AgentCallStore:
    def __init__(self, url: str) -> None:
        self.url = url

    def record(self, job_id: str, *, agent: str, strategy: str, model: str, messages: list[dict[str, str]],
               response: str, error: str | None, prompt_tokens: int, completion_tokens: int, cost_usd: float,
               latency_s: float, proposals: list[dict[str, Any]]) -> int:
        """Store one call. A proposal that became a candidate has fate "queued" and the fields that
        identify its trial (origin, note, params, source)."""
        with session_scope(self.url) as s:
            row = AgentCall(job_id=job_id, agent=agent, strategy=strategy, model=model, messages=messages,
                            response=response, error=error, prompt_tokens=prompt_tokens,
                            completion_tokens=completion_tokens, cost_usd=cost_usd, latency_s=latency_s,
                            proposals=proposals)
            s.add(row)
            s.flush()
            return row.id

    def spent(self, job_id: str) -> tuple[int, int]:
        """(calls, tokens) already spent by the job: a resumed job keeps its budget."""
        with session_scope(self.url) as s:
            calls, tokens = s.execute(select(func.count(AgentCall.id), func.coalesce(
                func.sum(AgentCall.prompt_tokens + AgentCall.completion_tokens), 0)).where(
                AgentCall.job_id == job_id)).one()
            return int(calls), int(tokens)

    def calls(self, job_id: str) -> list[AgentCallRecord]:
        """The job's calls in order; each queued proposal gains ``trial`` and ``trial_status`` once evaluated."""
        with session_scope(self.url) as s:
            rows = list(s.scalars(select(AgentCall).where(AgentCall.job_id == job_id).order_by(AgentCall.id)))
            proposals = [[dict(p) for p in r.proposals] for r in rows]
            trials = [{"number": t.number, "origin": t.origin, "note": t.note, "params": t.params,
                       "source": t.source, "status": t.status, "values": t.values}
                      for t in s.scalars(select(Trial).where(Trial.job_id == job_id).order_by(Trial.number))]
            _link(proposals, trials)
            return [replace(from_row(AgentCallRecord, r), proposals=linked) for r, linked in zip(rows, proposals)]


def _link(proposals_per_call: list[list[dict[str, Any]]], trials: list[dict[str, Any]]) -> None:
    claimed: set[int] = set()
    for proposals in proposals_per_call:
        for proposal in proposals:
            if proposal.get("fate") != "queued":
                continue
            for trial in trials:
                if trial["number"] not in claimed and all(
                        trial[k] == proposal.get(k) for k in ("origin", "note", "params", "source")):
                    claimed.add(trial["number"])
                    proposal.update(trial=trial["number"], trial_status=trial["status"], values=trial["values"])
                    break
