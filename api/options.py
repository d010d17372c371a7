"""The options each strategy reads from a job's ``options``, as typed models: a submit with an unknown
or ill-typed option is refused (400 naming it) instead of failing when the job runs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tuneforge.core.errors import UserInputError


class CommonOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    warm_start: bool = Field(True, description="seed the search with best configs of similar problems")
    transfer: bool = Field(True, description="learn from the stored histories of this target on other "
                                             "devices and problems")


class BanditOptions(CommonOptions):
    restarts: bool = Field(False, description="after a long stretch without a new best, hop out of the best "
                                              "config's neighbourhood and descend from there")


class AgentOptions(CommonOptions):
    llm_timeout_s: float = Field(120, gt=0, le=3600)
    llm_retries: int = Field(2, ge=0, le=10)
    llm_usd_per_mtok_in: float = Field(0, ge=0, le=10_000)
    llm_usd_per_mtok_out: float = Field(0, ge=0, le=10_000)
    agent_calls: int = Field(12, ge=1, le=1000)
    agent_tokens: int = Field(300_000, ge=1, le=100_000_000)
    kernel_agent: bool = True


class HybridOptions(AgentOptions):
    hybrid_seeds: int = Field(4, ge=1, le=1024)
    hybrid_kernel_every: int = Field(3, ge=1, le=1000)


def options_model(strategy: str, needs_llm: bool) -> type[CommonOptions]:
    if strategy == "hybrid":
        return HybridOptions
    if strategy == "bandit":
        return BanditOptions
    return AgentOptions if needs_llm else CommonOptions


def validate_options(strategy: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """The options as given (only those set), or UserInputError naming the first bad one."""
    from tuneforge.search.strategies import get_strategy

    found = get_strategy(strategy)
    model = options_model(found.name, found.needs_llm)
    try:
        model.model_validate(options or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"]) or "options"
        allowed = ", ".join(model.model_fields)
        if first["type"] == "extra_forbidden":
            raise UserInputError(f"unknown option {name!r} for strategy {found.name!r}; it reads: {allowed}") from None
        raise UserInputError(f"option {name!r} for strategy {found.name!r}: {first['msg']}") from None
    return dict(options or {})


def describe_options(strategy: str, needs_llm: bool) -> dict[str, Any]:
    return options_model(strategy, needs_llm).model_json_schema()["properties"]
