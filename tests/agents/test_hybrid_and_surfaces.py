"""The hybrid strategy on a replayed GEMM space, and where users see agent work: the agent-calls
route and command, the knowledge base route and command."""

from __future__ import annotations

import json
import random

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tuneforge.api.app import create_app
from tuneforge.api.cli import app as cli
from tuneforge.core.settings import reset_settings_cache
from tuneforge.db.store import JobStore
from tuneforge.evaluators.registry import resolve_device
from tuneforge.search.jobspec import build_job_spec
from tests.agents.fake_llm import API_KEY, FakeLLM
from tests.backbone.helpers import GEMM
from tuneforge.worker.jobs import run_job_embedded


@pytest.fixture
def hybrid_job(settings):
    """A finished hybrid job whose two seeds came from the (fake) config agent."""
    with FakeLLM() as llm:
        settings = settings.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "fake-planner",
                                               "llm_api_key": API_KEY})
        target = resolve_device(GEMM, settings).own_target()
        space = target.space(target.default_problem())
        rng = random.Random(7)
        seeds = [space.sample_valid(rng) for _ in range(2)]
        llm.script("config", json.dumps({"proposals": [
            {"params": seeds[0], "reason": "large tiles for a large GEMM"},
            {"params": {**seeds[1], "NOT_A_PARAM": 1}, "reason": "bad key"},
            {"params": seeds[1], "reason": "double buffering"}]}))
        spec = build_job_spec(settings, target=None, device=GEMM, strategy="hybrid", trials=8, seed=2,
                              options={"hybrid_seeds": 2, "llm_usd_per_mtok_in": 2.0, "llm_usd_per_mtok_out": 8.0})
        job_id = JobStore(settings.database_url).create_job(spec)
        job = run_job_embedded(job_id, settings)
        prompt = llm.requests_of("config")[0]["messages"][1]["content"]
    return settings, job, seeds, prompt


def test_hybrid_seeds_come_from_the_agent_and_tpe_refines(hybrid_job) -> None:
    settings, job, seeds, prompt = hybrid_job
    assert job.status == "succeeded", job.error
    trials = JobStore(settings.database_url).trials(job.id)
    assert [(t.origin, t.params, t.note) for t in trials[:2]] == [
        ("hybrid:config", seeds[0], "large tiles for a large GEMM"), ("hybrid:config", seeds[1], "double buffering")]
    assert {t.origin for t in trials[2:]} == {"PartialFixedSampler"}
    assert "Parameters:" in prompt and "Constraints:" in prompt and "knowledge base" in prompt


def test_agent_calls_route_and_command_show_prompts_costs_and_fates(hybrid_job, monkeypatch) -> None:
    settings, job, seeds, _ = hybrid_job
    with TestClient(create_app(settings, run_jobs=False)) as client:
        calls = client.get(f"/api/v1/jobs/{job.id}/agent-calls").json()
        assert client.get("/api/v1/jobs/nope/agent-calls").status_code == 404
    [call] = calls
    assert call["agent"] == "config" and call["model"] == "fake-planner" and call["messages"][0]["role"] == "system"
    expected_cost = (call["prompt_tokens"] * 2.0 + call["completion_tokens"] * 8.0) / 1e6
    assert call["cost_usd"] == pytest.approx(expected_cost) and call["cost_usd"] > 0
    assert [(p["fate"].split(":")[0], p.get("trial")) for p in call["proposals"]] == [
        ("queued", 0), ("invalid", None), ("queued", 1)]

    monkeypatch.setenv("TUNEFORGE_DATABASE_URL", settings.database_url)
    reset_settings_cache()
    shown = CliRunner().invoke(cli, ["agent-calls", job.id])
    assert shown.exit_code == 0, shown.output
    assert f"1 calls, {call['prompt_tokens'] + call['completion_tokens']} tokens" in shown.output
    as_json = CliRunner().invoke(cli, ["agent-calls", job.id, "--json"])
    assert json.loads(as_json.output)[0]["proposals"] == call["proposals"]
    full = CliRunner().invoke(cli, ["agent-calls", job.id, "--prompts"])
    assert "Propose 2 new configuration(s)." in full.output and "large tiles for a large GEMM" in full.output
    reset_settings_cache()


def test_knowledge_route_and_command_show_what_worked(hybrid_job, monkeypatch) -> None:
    settings, job, _, _ = hybrid_job
    best = job.result["best"]
    with TestClient(create_app(settings, run_jobs=False)) as client:
        found = client.get(f"/api/v1/knowledge/{job.target}", params={"device": GEMM}).json()
        assert client.get("/api/v1/knowledge/no-such-target").status_code == 404
    [entry] = found["targets"]
    assert entry["trials"] == 8 and entry["best"][0]["params"] == best["params"]
    assert f"{job.target} on {GEMM}: " in found["text"]

    monkeypatch.setenv("TUNEFORGE_DATABASE_URL", settings.database_url)
    reset_settings_cache()
    shown = CliRunner().invoke(cli, ["knowledge", job.target, "--device", GEMM])
    assert shown.exit_code == 0, shown.output
    assert "best at" in shown.output
    reset_settings_cache()
