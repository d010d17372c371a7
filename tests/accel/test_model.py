"""The closed-form systolic model: properties that must hold whatever the numbers are."""

from __future__ import annotations

import pytest

from tuneforge.evaluators.systolic.design import Design, DesignArrays
from tuneforge.evaluators.systolic.model import score, totals
from tuneforge.evaluators.systolic.workload import WorkloadArrays
from tuneforge.kernels.accel.layers import Layer, LayerFormat, parse_layer
from tuneforge.kernels.accel.workloads import WORKLOADS, get_workload, resnet18, transformer_block

LAYER = Layer("conv", 30, 30, 3, 3, 32, 64, 1)


def test_ideal_memory_never_stalls():
    for df in ("os", "ws", "is"):
        m = score(Design(16, 16, df, 16, 16, 16, bandwidth=None), [(LAYER, 1)])
        assert m["stall_cycles"] == 0
        assert m["latency_cycles"] == m["compute_cycles"]


def test_less_bandwidth_and_smaller_sram_never_help():
    big = Layer.gemm("g", 512, 512, 512)
    stalls = [score(Design(32, 32, "os", 64, 64, 64, bandwidth=bw), [(big, 1)])["stall_cycles"]
              for bw in (64, 16, 4, 1)]
    assert stalls == sorted(stalls) and stalls[-1] > 0
    traffic = [score(Design(32, 32, "ws", kb, kb, kb, bandwidth=8), [(big, 1)])["dram_mb"] for kb in (1024, 64, 16)]
    assert traffic == sorted(traffic) and traffic[-1] > traffic[0]


def test_utilisation_is_a_fraction_and_macs_are_conserved():
    w = get_workload("resnet18")
    m = score(Design(32, 32, "ws", 128, 128, 64, bandwidth=16), w)
    assert 0 < m["utilization"] <= 1
    assert m["macs"] == sum(layer.macs * n for layer, n in w)


def test_resnet_macs_match_the_published_counts():
    # torchvision: ResNet-18 1.82 GMACs, ResNet-50 4.1 GMACs at 224x224.
    assert sum(l.macs * n for l, n in resnet18()) == pytest.approx(1.82e9, rel=0.01)
    assert sum(l.macs * n for l, n in get_workload("resnet50")) == pytest.approx(4.1e9, rel=0.01)


def test_transformer_block_gemms_follow_the_model_dims():
    block = transformer_block(hidden=768, heads=12, seq=128)
    macs = sum(l.macs * n for l, n in block)
    assert macs == 128 * 768 * 768 * 12 + 2 * 128 * 128 * 768  # 4+8 h^2 projections/FFN, 2 s^2 h attention


def test_vectorised_scoring_equals_one_at_a_time():
    designs = [Design(r, c, df, kb, kb, kb // 2, bandwidth=bw, word_bits=wb)
               for r, c, df, kb, bw, wb in [(8, 64, "os", 32, 4, 8), (128, 16, "ws", 256, 16, 16),
                                            (32, 32, "is", 64, None, 8)]]
    w = get_workload("bert-base-block")
    batch = totals(DesignArrays.of(designs), WorkloadArrays.of(w))
    for i, d in enumerate(designs):
        one = score(d, w)
        for name, values in batch.items():
            assert values[i] == pytest.approx(one[name])


def test_fewer_weight_bits_cut_energy_and_traffic():
    layers = [(Layer.gemm("fc", 256, 256, 256), 1)]
    design = Design(32, 32, "ws", 32, 32, 32, bandwidth=8)
    costs = [score(design, layers, [LayerFormat(act_bits=8, weight_bits=b)]) for b in (8, 4, 2)]
    assert costs[0]["energy_uj"] > costs[1]["energy_uj"] > costs[2]["energy_uj"]
    assert costs[0]["dram_mb"] > costs[1]["dram_mb"] > costs[2]["dram_mb"]


def test_groups_that_straddle_tiles_cost_extra_passes():
    layers = [(Layer.gemm("fc", 64, 64, 256), 1)]
    design = Design(48, 32, "ws", 64, 64, 64, bandwidth=None)
    fmt = dict(act_bits=8, weight_bits=4, group_size=64, scale_dtype="fp16")
    aligned = score(design, layers, [LayerFormat(aligned=True, **fmt)])
    straddling = score(design, layers, [LayerFormat(aligned=False, **fmt)])
    assert straddling["compute_cycles"] > aligned["compute_cycles"]


def test_thousands_of_designs_per_second():
    from tuneforge.evaluators.systolic.validation import designs_per_second

    assert designs_per_second(resnet18(), n_designs=4096) > 5000


def test_every_workload_builds_and_bad_layers_say_what_to_change():
    from tuneforge.core.errors import UserInputError

    for name in WORKLOADS:
        assert get_workload(name)
    with pytest.raises(UserInputError, match="gemm:M,N,K"):
        parse_layer("gemm:1,2")
    with pytest.raises(UserInputError, match="filter"):
        parse_layer("conv:3,3,5,5,1,1,1")
    assert parse_layer("conv:8,8,3,3,1,4,1").ofmap_pixels == 36
