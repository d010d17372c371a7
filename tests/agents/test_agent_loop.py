"""The agent loop end to end: a real OpenAI-compatible HTTP server with scripted replies, the real
tuning loop with its process pool, the cpu device (Triton interpreter), and the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tuneforge.core.errors import UserInputError
from tuneforge.db.agent_calls import AgentCallStore
from tuneforge.db.store import JobStore
from tuneforge.search.jobspec import build_job_spec
from tests.agents.fake_llm import API_KEY, FakeLLM
from tests.agents.tricks import softmax_module
from tuneforge.worker.jobs import run_job_embedded

KERNELS = Path(__file__).parent / "kernels"
HONEST = (KERNELS / "softmax_one_pass.py").read_text()
NOT_COMPILING = HONEST.replace("BLOCK=triton.next_power_of_2(N)", "BLOCK=N")  # tl.arange needs a power of 2
LIBRARY_CHEAT = softmax_module("out.copy_(torch.softmax(x, -1))\nreturn out")
UNWRITTEN_CHEAT = softmax_module("return out")  # launches nothing; passes the static checks


def configs(*proposals: tuple[dict, str]) -> str:
    return "Here you go:\n```json\n" + json.dumps(
        {"proposals": [{"params": p, "reason": r} for p, r in proposals]}) + "\n```"


def kernel(idea: str, source: str) -> str:
    return f"IDEA: {idea}\n```python\n{source}```\n"


@pytest.fixture
def llm():
    with FakeLLM() as server:
        yield server


def _llm_settings(settings, llm: FakeLLM):
    return settings.model_copy(update={"llm_base_url": llm.base_url, "llm_model": "fake-coder",
                                       "llm_api_key": API_KEY, "embedded_workers": 1, "eval_timeout_s": 120})


def test_agent_job_shows_every_outcome_in_its_trials(settings, llm) -> None:
    llm.script("config",
               configs(({"BLOCK_N": 512, "num_warps": 4, "num_stages": 1}, "one block holds a whole 300-wide row")),
               configs(({"BLOCK_N": 3, "num_warps": 4, "num_stages": 1}, "tiny blocks")),  # not in the space
               "<think>fix it</think>" + configs(({"BLOCK_N": 512, "num_warps": 2, "num_stages": 2},
                                                  "fewer warps for a short row")))
    llm.script("kernel",
               kernel("one program per row, block as wide as the row", NOT_COMPILING),
               kernel("round the block up to a power of two", HONEST),
               kernel("let torch do it", LIBRARY_CHEAT),
               kernel("skip the work", UNWRITTEN_CHEAT))
    settings = _llm_settings(settings, llm)
    spec = build_job_spec(settings, target="softmax", device="cpu", shape="rows=8,N=300", strategy="agent",
                          trials=6, seed=3, options={"agent_calls": 12})
    store = JobStore(settings.database_url)
    job_id = store.create_job(spec)

    job = run_job_embedded(job_id, settings)

    assert job.status == "succeeded", job.error
    trials = store.trials(job_id)
    outcome = [(t.status, t.origin, t.note) for t in trials]
    assert outcome[0] == ("ok", "agent:config", "one block holds a whole 300-wide row")
    assert outcome[1] == ("compile_error", "agent:kernel", "one program per row, block as wide as the row")
    assert "arange" in trials[1].log
    assert outcome[2] == ("ok", "agent:config", "fewer warps for a short row")
    assert outcome[3] == ("ok", "agent:kernel", "round the block up to a power of two")
    assert trials[3].source == HONEST
    assert outcome[4][0] == "ok" and not outcome[4][1].startswith("agent")  # the config agent had nothing: TPE
    assert outcome[5] == ("wrong_result", "agent:kernel", "skip the work")
    assert trials[5].log.startswith("output-not-written")

    # The fix was written with the compile error in front of it.
    second_kernel_prompt = llm.requests_of("kernel")[1]["messages"][-1]["content"]
    assert "compile_error" in second_kernel_prompt and "power of 2" in second_kernel_prompt

    calls = AgentCallStore(settings.database_url).calls(job_id)
    assert [c.agent for c in calls] == ["config", "kernel", "config", "config", "kernel", "config", "config",
                                           "kernel", "kernel"]
    assert all(c.prompt_tokens > 0 and c.latency_s > 0 and c.model == "fake-coder" for c in calls)
    fates = [(p["fate"].split(":")[0], p.get("trial"), p.get("trial_status")) for c in calls for p in c.proposals]
    assert fates == [("queued", 0, "ok"), ("queued", 1, "compile_error"), ("invalid", None, None),
                     ("queued", 2, "ok"), ("queued", 3, "ok"), ("rejected", None, None), ("queued", 5, "wrong_result")]
    cheat = next(p for c in calls for p in c.proposals if p["note"] == "let torch do it")
    assert cheat["fate"].startswith("rejected: rule library-compute")
    last = next(p for c in calls for p in c.proposals if p["note"] == "skip the work")
    assert (last["trial"], last["trial_status"]) == (5, "wrong_result")
    # The rejected cheat went back to the model before its next attempt.
    assert "library-compute" in llm.requests_of("kernel")[3]["messages"][-1]["content"]


def test_agent_strategies_are_refused_without_an_llm(settings) -> None:
    for strategy in ("agent", "hybrid"):
        with pytest.raises(UserInputError) as err:
            build_job_spec(settings, target="softmax", device="cpu", shape="rows=8,N=300", strategy=strategy, trials=3)
        assert all(name in str(err.value) for name in ("TUNEFORGE_LLM_BASE_URL", "TUNEFORGE_LLM_MODEL",
                                                       "TUNEFORGE_LLM_API_KEY"))
