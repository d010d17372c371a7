"""A budget of LLM calls and tokens, and the record of one call that search/ stores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from tuneforge.agents.llm import LLMClient, LLMError


@dataclass
class Budget:
    max_calls: int
    max_tokens: int
    calls: int = 0
    tokens: int = 0

    def allows(self) -> bool:
        return self.calls < self.max_calls and self.tokens < self.max_tokens


@dataclass
class CallRecord:
    agent: str
    messages: list[dict[str, str]]
    model: str = ""
    response: str = ""
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    proposals: list[dict[str, Any]] = field(default_factory=list)  # each with a "fate"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def call(client: LLMClient, budget: Budget, agent: str, messages: list[dict[str, str]]) -> CallRecord:
    """One charged call; a failed call is recorded (and charged as a call) rather than raised."""
    record = CallRecord(agent=agent, messages=[dict(m) for m in messages], model=client.config.model)
    budget.calls += 1
    try:
        reply = client.chat(messages)
    except LLMError as exc:
        record.error = str(exc)
        return record
    record.response, record.model = reply.text, reply.model
    record.prompt_tokens, record.completion_tokens = reply.prompt_tokens, reply.completion_tokens
    record.cost_usd, record.latency_s = reply.cost_usd, reply.latency_s
    budget.tokens += reply.prompt_tokens + reply.completion_tokens
    return record
