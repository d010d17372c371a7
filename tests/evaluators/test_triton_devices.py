"""The cpu, sim:<gpu> and cuda devices evaluate Triton candidates through the device interface."""

from __future__ import annotations

import pytest

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Objective, Provenance, TrialStatus
from tuneforge.evaluators.devices.sim_gpu import SimGpuDevice
from tuneforge.evaluators.devices.triton_cpu import TritonCpuDevice
from tuneforge.evaluators.devices.triton_cuda import TritonCudaDevice, gpu_visible
from tuneforge.evaluators.registry import resolve_device
from tuneforge.evaluators.verify import VerdictCache
from tuneforge.kernels.registry import get_target
from tests.evaluators.planted import PLANTED

GROUPED = dict(variant="grouped", BLOCK_M=128, BLOCK_N=128, BLOCK_K=64, GROUP_M=8, SPLIT_K=1, num_warps=8,
               num_stages=3)
TIME = [Objective("time_ms")]


@pytest.fixture(scope="module")
def sim_h100():
    device = SimGpuDevice("sim:h100", Settings())
    device.cache = VerdictCache()
    yield device
    device.pool.close()


@pytest.fixture(scope="module")
def cpu():
    device = TritonCpuDevice("cpu", Settings())
    device.cache = VerdictCache()
    yield device
    device.pool.close()


def test_registry_resolves_gpu_sims_but_not_other_sims():
    assert SimGpuDevice.accepts("sim:h100") and SimGpuDevice.accepts("sim:a100")
    assert not SimGpuDevice.accepts("sim:systolic") and not SimGpuDevice.accepts("sim:")
    assert isinstance(resolve_device("sim:a100", Settings()), SimGpuDevice)
    assert isinstance(resolve_device("cpu", Settings()), TritonCpuDevice)


def test_sim_models_a_verified_config(sim_h100):
    matmul = get_target("matmul")
    problem = matmul.parse_problem({"M": 4096, "N": 4096, "K": 4096}, "fp16")
    result = sim_h100.evaluate(matmul, problem, Candidate(GROUPED))
    assert result.status == TrialStatus.OK and result.provenance == Provenance.MODELLED
    assert "modelled" in result.device_name
    assert result.metrics["roofline_ms"] <= result.metrics["time_ms"] < 3 * result.metrics["roofline_ms"]
    assert result.metrics["max_err_rel"] < 2e-3
    again = sim_h100.evaluate(matmul, problem, Candidate(GROUPED))
    assert again.timings["verify_cached"] == 1.0 and again.metrics["time_ms"] == result.metrics["time_ms"]


def test_sim_rejects_what_the_hardware_cannot_run(sim_h100):
    matmul = get_target("matmul")
    problem = matmul.default_problem()
    huge_smem = {**GROUPED, "BLOCK_N": 256, "num_stages": 5}  # 5 x (128x64 + 64x256) x 2 B = 240 KiB
    result = sim_h100.evaluate(matmul, problem, Candidate(huge_smem))
    assert result.status == TrialStatus.INVALID and "shared memory" in result.log
    too_many_regs = {**GROUPED, "BLOCK_M": 256, "BLOCK_N": 256, "num_warps": 2, "num_stages": 1}
    result = sim_h100.evaluate(matmul, problem, Candidate(too_many_regs))
    assert result.status == TrialStatus.INVALID and "registers" in result.log
    outside = sim_h100.evaluate(matmul, problem, Candidate({**GROUPED, "GROUP_M": 1}))
    assert outside.status == TrialStatus.INVALID and "space" in outside.log


def test_sim_reports_a_wrong_kernel_however_fast_it_is_modelled(sim_h100):
    name, make_source, _ = PLANTED["off-by-one load mask"]
    matmul = get_target(name)
    result = sim_h100.evaluate(matmul, matmul.default_problem(), Candidate(GROUPED, source=make_source()))
    # Source candidates pass the agent-code static checks first: this copy of the template imports os
    # (for its interpreter switch), so it is refused before it runs, and never modelled as fast.
    assert result.status == TrialStatus.INVALID and result.log.startswith("process-file-network")
    assert "time_ms" not in result.metrics
    assert result.objective_values(TIME) is None  # never a best config


def test_sim_baseline_is_modelled_vendor_library(sim_h100):
    matmul = get_target("matmul")
    base = sim_h100.baseline(matmul, matmul.default_problem())
    assert base.provenance == Provenance.MODELLED and "modelled" in base.log
    assert base.metrics["time_ms"] == pytest.approx(base.metrics["roofline_ms"] / matmul.vendor_efficiency)
    quant = get_target("quant_matmul")
    assert "matmul" in sim_h100.baseline(quant, quant.default_problem()).log


def test_cpu_verifies_at_the_problem_and_reports_no_time(cpu):
    matmul = get_target("matmul")
    problem = matmul.parse_problem({"M": 64, "N": 48, "K": 80}, "fp32")
    config = {**GROUPED, "BLOCK_M": 32, "BLOCK_N": 16, "BLOCK_K": 16, "num_warps": 4}
    result = cpu.evaluate(matmul, problem, Candidate(config))
    assert result.status == TrialStatus.OK and result.provenance == Provenance.VERIFIED_ONLY
    assert "time_ms" not in result.metrics and "'M': 64" in result.log
    # A source candidate is agent code to the device: static checks first, then the sandbox.
    wrong = cpu.evaluate(matmul, problem, Candidate(config, source=PLANTED["partial write"][1]()))
    assert wrong.status == TrialStatus.INVALID and wrong.log.startswith("process-file-network")


def test_cpu_refuses_problems_too_big_for_the_interpreter(cpu):
    matmul = get_target("matmul")
    with pytest.raises(UserInputError, match="sim:h100"):
        cpu.check_target(matmul, matmul.default_problem())
    assert cpu.evaluate(matmul, matmul.default_problem(), Candidate(GROUPED)).status == TrialStatus.INVALID


@pytest.mark.skipif(gpu_visible(), reason="checks the message given on machines without a GPU")
def test_cuda_without_a_gpu_fails_with_a_clear_message():
    device = TritonCudaDevice("cuda", Settings())
    matmul = get_target("matmul")
    result = device.evaluate(matmul, matmul.default_problem(), Candidate(GROUPED))
    assert result.status == TrialStatus.CRASHED and "no NVIDIA GPU" in result.log and "sim:h100" in result.log
    assert device.baseline(matmul, matmul.default_problem()).status == TrialStatus.CRASHED


@pytest.mark.skipif(not gpu_visible(), reason="needs an NVIDIA GPU")
def test_cuda_times_a_verified_kernel_and_its_baseline():
    device = TritonCudaDevice("cuda", Settings())
    device.cache = VerdictCache()
    matmul = get_target("matmul")
    problem = matmul.parse_problem({"M": 2048, "N": 2048, "K": 2048}, "fp16")
    result = device.evaluate(matmul, problem, Candidate(GROUPED))
    assert result.status == TrialStatus.OK, result.log
    assert result.provenance == Provenance.MEASURED and result.metrics["time_ms"] > 0
    wrong = device.evaluate(matmul, problem, Candidate(GROUPED, source=PLANTED["off-by-one load mask"][1]()))
    assert wrong.status == TrialStatus.WRONG_RESULT
    base = device.baseline(matmul, problem)
    assert base.status == TrialStatus.OK and base.metrics["time_ms"] > 0
    device.pool.close()
