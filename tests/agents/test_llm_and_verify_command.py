"""The LLM client against a real local server (retries, timeouts, keys), reply parsing, and the
``tuneforge verify`` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuneforge.agents.llm import LLMClient, LLMConfig, LLMError
from tuneforge.agents.parsing import extract_python, parse_json
from tuneforge.api.cli import app as cli
from tests.agents.fake_llm import API_KEY, FakeLLM, Reply
from tests.agents.tricks import TRICKS

KERNELS = Path(__file__).parent / "kernels"
HELLO = [{"role": "user", "content": "hello"}]


def test_parse_json_finds_the_object_in_prose_fences_and_reasoning() -> None:
    assert parse_json('{"a": 1}') == {"a": 1}
    assert parse_json("<think>{not json}</think>Sure:\n```json\n{\"a\": [1, 2,],}\n```") == {"a": [1, 2]}
    assert parse_json('My proposals are {"proposals": []} as asked.') == {"proposals": []}
    with pytest.raises(ValueError):
        parse_json("no json here")


def test_extract_python_takes_the_final_block_that_defines_the_function() -> None:
    reply = ("Draft:\n```python\ndef helper():\n    pass\n```\nFinal:\n```python\ndef softmax(x, out=None):\n"
             "    return out\n```\nAnd a test:\n```python\nprint(softmax)\n```")
    assert extract_python(reply, defines="softmax").startswith("def softmax")


def test_client_retries_server_errors_and_reports_usage() -> None:
    with FakeLLM() as llm:
        llm.script("default", Reply(status=500), Reply(status=429), Reply("fine"))
        reply = LLMClient(LLMConfig(base_url=llm.base_url, model="m", api_key=API_KEY, max_retries=2,
                                    usd_per_mtok_in=1.0)).chat(HELLO)
        assert (reply.text, len(llm.requests)) == ("fine", 3)
        assert reply.prompt_tokens >= 1 and reply.cost_usd == pytest.approx(reply.prompt_tokens / 1e6)


def test_client_timeouts_and_bad_keys_become_llm_errors() -> None:
    with FakeLLM() as llm:
        llm.script("default", Reply("late", delay_s=2.0))
        with pytest.raises(LLMError, match="Timeout"):
            LLMClient(LLMConfig(base_url=llm.base_url, model="m", api_key=API_KEY, timeout_s=0.3,
                                max_retries=0)).chat(HELLO)
        with pytest.raises(LLMError, match="Authentication"):
            LLMClient(LLMConfig(base_url=llm.base_url, model="m", api_key="wrong", max_retries=0)).chat(HELLO)


def test_verify_command_accepts_an_honest_kernel() -> None:
    result = CliRunner().invoke(cli, ["verify", "softmax", "--source", str(KERNELS / "softmax_one_pass.py"),
                                      "--params", "BLOCK_N=1024,num_warps=4,num_stages=2", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["accepted"] and report["config"]["BLOCK_N"] == 1024


def test_verify_command_names_the_rule_that_rejected(tmp_path: Path) -> None:
    cheat = next(t for t in TRICKS if t.rule == "dynamic-access")
    path = tmp_path / "cheat.py"
    path.write_text(cheat.source)
    result = CliRunner().invoke(cli, ["verify", "softmax", "--source", str(path)])
    assert result.exit_code == 1
    assert "rejected by rule dynamic-access" in result.output
