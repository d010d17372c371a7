"""``tuneforge agent-calls JOB`` and ``tuneforge knowledge TARGET``: what the agents asked, answered
and cost, and what they read."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from tuneforge.api.console import format_params, out, print_json
from tuneforge.api.schemas import AgentCallPublic, public


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.command("agent-calls")(agent_calls)
    app.command()(knowledge)


def agent_calls(job_id: str, as_json: bool = typer.Option(False, "--json"),
                prompts: bool = typer.Option(False, "--prompts", help="print each prompt and response in full")) -> None:
    """A job's LLM calls: tokens, cost, latency and the fate of each proposal (with its trial)."""
    from tuneforge.core.settings import get_settings
    from tuneforge.db.agent_calls import AgentCallStore
    from tuneforge.db.store import JobStore

    url = get_settings().database_url
    JobStore(url).get_job(job_id)
    calls = AgentCallStore(url).calls(job_id)
    if as_json:
        return print_json([public(AgentCallPublic, c) for c in calls])
    table = Table("#", "agent", "model", "tokens in/out", "cost $", "latency s", "proposal", "fate", "trial")
    for i, call in enumerate(calls):
        head = [str(i), call.agent, call.model, f"{call.prompt_tokens}/{call.completion_tokens}",
                f"{call.cost_usd:.4f}", f"{call.latency_s:.2f}"]
        rows = call.proposals or [{"fate": call.error or "no proposals"}]
        for j, p in enumerate(rows):
            trial = "" if p.get("trial") is None else f"#{p['trial']} {p['trial_status']}"
            what = p.get("note") or (format_params(p["params"]) if isinstance(p.get("params"), dict) else "")
            table.add_row(*(head if j == 0 else [""] * len(head)), what[:60], p["fate"][:60], trial)
    out.print(table)
    total = sum(c.cost_usd for c in calls)
    out.print(f"{len(calls)} calls, {sum(c.prompt_tokens + c.completion_tokens for c in calls)} tokens, "
              f"${total:.4f}")
    if prompts:
        for i, call in enumerate(calls):
            out.rule(f"call {i}: {call.agent}")
            for role, text in [*((m["role"], m["content"]) for m in call.messages),
                               ("response", call.response or call.error or "")]:
                out.print(role, style="bold")
                out.print(text, markup=False, soft_wrap=True)


def knowledge(target: str, device: Optional[str] = typer.Option(None, "--device", "-d"),
              as_json: bool = typer.Option(False, "--json")) -> None:
    """What worked for a target's family (and device): the text the agents get in their prompts."""
    from tuneforge.api.features.agent_calls import target_knowledge
    from tuneforge.core.settings import get_settings

    found = target_knowledge(get_settings().database_url, target, device)
    if as_json:
        return print_json(found.to_dict())
    out.print(found.to_text(first=target), markup=False, soft_wrap=True)
