"""The analytical GPU model: bounded by the roofline, sensitive to what it claims to model."""

from __future__ import annotations

import random

import pytest

from tuneforge.evaluators.gpu_model.model import predict
from tuneforge.evaluators.gpu_model.prune import predict_config, rank_configs
from tuneforge.evaluators.gpu_model.specs import GPUS, spec_for_device_name
from tuneforge.evaluators.speed_of_light import faster_than_light
from tuneforge.kernels.registry import get_target

MATMUL = dict(variant="tiled", BLOCK_M=128, BLOCK_N=128, BLOCK_K=64, GROUP_M=1, SPLIT_K=1, num_warps=8, num_stages=3)


@pytest.mark.parametrize("name", ["matmul", "softmax", "layernorm", "rmsnorm", "quant_matmul"])
@pytest.mark.parametrize("gpu", ["h100", "a100"])
def test_no_prediction_beats_the_roofline(name, gpu):
    target = get_target(name)
    problem = target.default_problem()
    space = target.space(problem)
    rng = random.Random(3)
    for config in (space.sample_valid(rng) for _ in range(200)):
        pred = predict_config(target, problem, config, GPUS[gpu])
        if pred.valid:
            assert pred.time_ms >= pred.roofline_ms > 0


def test_matmul_4096_fp16_on_h100_is_near_but_under_the_speed_of_light():
    target = get_target("matmul")
    problem = target.default_problem()
    pred = predict_config(target, problem, {**MATMUL, "variant": "grouped", "GROUP_M": 8}, GPUS["h100"])
    assert pred.roofline_ms == pytest.approx(2 * 4096**3 / 989.4e12 * 1e3)
    assert 0.5 < pred.roofline_ms / pred.time_ms < 1.0


def test_grouped_tile_order_moves_fewer_bytes_than_row_order():
    target = get_target("matmul")
    problem = target.parse_problem({"M": 16384, "N": 16384, "K": 4096}, "fp16")
    tiled = predict_config(target, problem, MATMUL, GPUS["h100"])
    grouped = predict_config(target, problem, {**MATMUL, "variant": "grouped", "GROUP_M": 8}, GPUS["h100"])
    assert grouped.details["dram_bytes"] < 0.8 * tiled.details["dram_bytes"]


def test_pipelining_stages_help_until_shared_memory_runs_out():
    target = get_target("matmul")
    problem = target.default_problem()
    one_program_per_sm = {**MATMUL, "BLOCK_N": 256}
    one = predict_config(target, problem, {**one_program_per_sm, "num_stages": 1}, GPUS["h100"])
    three = predict_config(target, problem, {**one_program_per_sm, "num_stages": 3}, GPUS["h100"])
    assert one.details["ctas_per_sm"] == 1 and three.time_ms < 0.8 * one.time_ms
    big = {**MATMUL, "BLOCK_N": 256, "num_stages": 4}  # 192 KiB: fits an H100, not an A100
    assert predict_config(target, problem, big, GPUS["h100"]).valid
    a100 = predict_config(target, problem, big, GPUS["a100"])
    assert not a100.valid and "shared memory" in a100.reason


def test_wave_quantization_penalises_a_grid_just_over_full_waves():
    target = get_target("matmul")
    spec = GPUS["h100"]
    # 128x128 tiles: 132 tiles is one full wave at one program per SM, 133 needs a second.
    full = target.parse_problem({"M": 128 * 132, "N": 128, "K": 8192}, "fp16")
    over = target.parse_problem({"M": 128 * 133, "N": 128, "K": 8192}, "fp16")
    config = {**MATMUL, "num_stages": 4}
    a, b = (predict(target.launch_profile(p, config), spec, target.bytes(p)) for p in (full, over))
    assert a.details["ctas_per_sm"] == 1 and b.details["waves"] == 2
    assert b.details["compute_ms"] > 1.9 * a.details["compute_ms"] and b.time_ms > a.time_ms


def test_softmax_rows_longer_than_l2_share_are_read_twice_from_dram():
    target = get_target("softmax")
    problem = target.default_problem()
    pred = predict_config(target, problem, {"BLOCK_N": 4096, "num_warps": 8, "num_stages": 2}, GPUS["h100"])
    assert pred.details["dram_bytes"] == pytest.approx(1.5 * target.bytes(problem))


def test_rank_configs_prunes_invalid_and_sorts():
    target = get_target("softmax")
    problem = target.default_problem()
    ranked = rank_configs(target, problem, "h100")
    times = [pred.time_ms for _, pred in ranked]
    assert times == sorted(times)
    assert 0 < len(ranked) < sum(1 for _ in target.space(problem).valid_configs())
    assert len(rank_configs(target, problem, "h100", keep=5)) == 5


def test_speed_of_light_flags_impossible_times_and_device_names_map_to_specs():
    assert faster_than_light(0.05, 0.139) and "speed of light" in faster_than_light(0.05, 0.139)
    assert faster_than_light(0.139, 0.139) is None and faster_than_light(0.2, 0.139) is None
    assert spec_for_device_name("NVIDIA H100 80GB HBM3").key == "h100"
    assert spec_for_device_name("NVIDIA A100-SXM4-80GB").key == "a100"
    assert spec_for_device_name("NVIDIA GeForce RTX 3090") is None
