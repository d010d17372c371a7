"""One chat completion against any OpenAI-compatible endpoint, measured and priced.

The ``openai`` client retries connection errors, 408/409/429 and 5xx with backoff
(``max_retries``) and enforces ``timeout_s`` per request; anything still failing becomes an
:class:`LLMError` that the caller records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import openai

from tuneforge.core.settings import Settings


class LLMError(Exception):
    pass


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: str = "unused"  # local servers ignore it, but the client insists on one
    timeout_s: float = 120.0
    max_retries: int = 2
    temperature: float = 0.2
    max_tokens: int = 4096
    usd_per_mtok_in: float = 0.0
    usd_per_mtok_out: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> LLMConfig:
        if not (settings.llm_base_url and settings.llm_model):
            raise LLMError("no LLM endpoint: set TUNEFORGE_LLM_BASE_URL (ending in /v1), TUNEFORGE_LLM_MODEL "
                           "and TUNEFORGE_LLM_API_KEY")
        return cls(base_url=settings.llm_base_url, model=settings.llm_model,
                   api_key=settings.llm_api_key or "unused", **overrides)


@dataclass
class LLMReply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    cost_usd: float
    model: str


class LLMClient:
    def __init__(self, config: LLMConfig) -> None:
        self.config = config
        self._client = openai.OpenAI(base_url=config.base_url, api_key=config.api_key, timeout=config.timeout_s,
                                     max_retries=config.max_retries)

    def chat(self, messages: list[dict[str, str]]) -> LLMReply:
        started = time.perf_counter()
        try:
            response = self._client.chat.completions.create(
                model=self.config.model, messages=messages, temperature=self.config.temperature,
                max_tokens=self.config.max_tokens)
        except openai.OpenAIError as exc:
            raise LLMError(f"{type(exc).__name__}: {exc}") from exc
        latency = time.perf_counter() - started
        if not response.choices:
            raise LLMError("the endpoint answered without choices")
        text = response.choices[0].message.content or ""
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else _estimate_tokens(" ".join(m["content"] for m in messages))
        completion_tokens = usage.completion_tokens if usage else _estimate_tokens(text)
        cost = (prompt_tokens * self.config.usd_per_mtok_in + completion_tokens * self.config.usd_per_mtok_out) / 1e6
        return LLMReply(text=text, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                        latency_s=latency, cost_usd=cost, model=response.model or self.config.model)


def _estimate_tokens(text: str) -> int:
    # Servers that send no usage still need a budget; ~4 characters per token is the usual rule.
    return max(1, len(text) // 4)
