"""The Triton target cards: light imports, spaces, problem rules, and every template verified honest."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import REPO_ROOT
from tuneforge.evaluators.verify import WorkerPool, verify_candidate
from tuneforge.kernels._triton_common import GemmProfile, StreamProfile, TritonTarget
from tuneforge.kernels.registry import all_targets, get_target

TRITON_TARGETS = ["matmul", "softmax", "layernorm", "rmsnorm", "quant_matmul"]


@pytest.fixture(scope="module")
def interpreter_pool():
    pool = WorkerPool("cpu")
    yield pool
    pool.close()


def test_target_cards_import_without_torch_or_triton():
    code = ("import sys, tuneforge.kernels.registry as r; r.all_targets(); "
            "import tuneforge.evaluators.registry as e; e.device_classes(); "
            "bad = [m for m in ('torch', 'triton') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", TRITON_TARGETS)
def test_card_is_registered_with_a_space_and_a_profile(name):
    target = all_targets()[name]
    assert isinstance(target, TritonTarget) and target.family == "triton"
    problem = target.default_problem()
    space = target.space(problem)
    config = space.sample_valid(random.Random(1))
    assert target.flops(problem) > 0 and target.bytes(problem) > 0
    assert isinstance(target.launch_profile(problem, config), (GemmProfile, StreamProfile))
    primary, odd = target.check_problems(problem, small=True)
    assert primary.dims != odd.dims and primary.dtype == odd.dtype == problem.dtype


def test_kernelbench_default_sizes():
    assert get_target("matmul").default_problem().dims == {"M": 4096, "N": 4096, "K": 4096}
    assert get_target("softmax").default_problem().dims == {"rows": 4096, "N": 393216}
    assert get_target("rmsnorm").default_problem().dims == {"B": 112, "C": 64, "H": 512, "W": 512}


def test_matmul_space_ties_variant_to_its_parameters():
    target = get_target("matmul")
    space = target.space(target.default_problem())
    base = dict(BLOCK_M=64, BLOCK_N=64, BLOCK_K=32, num_warps=4, num_stages=3)
    assert space.is_valid({**base, "variant": "grouped", "GROUP_M": 8, "SPLIT_K": 1})
    assert space.is_valid({**base, "variant": "splitk", "GROUP_M": 1, "SPLIT_K": 4})
    assert not space.is_valid({**base, "variant": "tiled", "GROUP_M": 8, "SPLIT_K": 1})
    assert not space.is_valid({**base, "variant": "grouped", "GROUP_M": 8, "SPLIT_K": 4})
    small = target.space(target.parse_problem({"M": 32, "N": 32, "K": 32}, "fp32"))
    assert not small.is_valid({**base, "BLOCK_M": 128, "variant": "tiled", "GROUP_M": 1, "SPLIT_K": 1})


def test_quant_matmul_rules():
    target = get_target("quant_matmul")
    with pytest.raises(UserInputError, match="even"):
        target.parse_problem({"M": 16, "N": 4095, "K": 4096})
    with pytest.raises(UserInputError, match="dtype"):
        target.parse_problem(dtype="fp32")
    space = target.space(target.default_problem())
    config = dict(bits=8, group_size=64, pack_dim="N", BLOCK_M=16, BLOCK_N=64, BLOCK_K=64, num_warps=4, num_stages=2)
    assert not space.is_valid(config)  # int8 is not packed
    assert space.is_valid({**config, "pack_dim": "K"})
    assert not space.is_valid({**config, "pack_dim": "K", "BLOCK_K": 128})  # BLOCK_K must divide the group
    assert target.min_bytes(target.default_problem(), {"bits": 4, "group_size": 128}) < \
        target.min_bytes(target.default_problem(), {"bits": 8, "group_size": 128})


@pytest.mark.parametrize("name,dtype", [("matmul", "fp32"), ("matmul", "fp16"), ("matmul", "bf16"),
                                        ("softmax", "fp16"), ("layernorm", "fp32"), ("rmsnorm", "bf16"),
                                        ("quant_matmul", "fp16"), ("quant_matmul", "bf16")])
def test_honest_templates_pass_verification(interpreter_pool, name, dtype):
    target = get_target(name)
    problem = target.parse_problem(dtype=dtype)
    rng = random.Random(7)
    for config in (target.space(problem).sample_valid(rng) for _ in range(2)):
        verdict = verify_candidate(target, problem, config, pool=interpreter_pool, cache=None, timeout_s=300,
                                   small=True)
        assert verdict.passed, (config, verdict.rule, verdict.message)
        assert len(verdict.checks) == 3 and all(c["max_err_rel"] < target.tolerance(problem).rtol
                                                for c in verdict.checks)


@pytest.mark.parametrize("variant", ["tiled", "grouped", "splitk"])
def test_every_matmul_variant_is_correct(interpreter_pool, variant):
    target = get_target("matmul")
    problem = target.parse_problem(dtype="fp32")
    config = dict(variant=variant, BLOCK_M=32, BLOCK_N=16, BLOCK_K=16, GROUP_M=4 if variant == "grouped" else 1,
                  SPLIT_K=4 if variant == "splitk" else 1, num_warps=4, num_stages=2)
    verdict = verify_candidate(target, problem, config, pool=interpreter_pool, cache=None, timeout_s=300, small=True)
    assert verdict.passed, verdict.message


@pytest.mark.parametrize("bits,pack_dim", [(8, "K"), (4, "K"), (4, "N")])
def test_every_quant_layout_is_correct(interpreter_pool, bits, pack_dim):
    target = get_target("quant_matmul")
    problem = target.default_problem()
    config = dict(bits=bits, group_size=32, pack_dim=pack_dim, BLOCK_M=16, BLOCK_N=32, BLOCK_K=32, num_warps=4,
                  num_stages=2)
    verdict = verify_candidate(target, problem, config, pool=interpreter_pool, cache=None, timeout_s=300, small=True)
    assert verdict.passed, verdict.message
