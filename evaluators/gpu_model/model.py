"""An analytical GPU model: what a launch profile costs on a GpuSpec. Every number it gives is modelled.

Resources first: shared memory per block, registers per thread, threads per block; a config
beyond the hardware's limits cannot run. Occupancy (programs per SM) follows from them. Time
is the larger of compute and DRAM time, each derated for what the config does:
 - compute: tile padding, wave quantization, shared-memory feed of the tensor cores (small
   tiles starve them), fixed work per K step (small BLOCK_K pays it often), warps per SM,
   Hopper's warpgroup MMA needing 4-warp groups;
 - memory: DRAM traffic from the tiles the first wave touches (L2 reuse across concurrently
   running programs, so grouped tile order moves fewer bytes), bytes in flight per SM against
   the bandwidth-latency product (pipelining stages and occupancy), wave quantization;
 - overlap: with one stage and one program per SM, loads and math serialise.
The roofline (speed of light) is max(FLOPs / peak, compulsory bytes / bandwidth).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tuneforge.evaluators.gpu_model.specs import GpuSpec
from tuneforge.kernels._triton_common import GemmProfile, LaunchProfile, StreamProfile, cdiv

TENSOR_EFFICIENCY = 0.85  # sustained fraction of datasheet tensor peak (power and clock limits)
DRAM_EFFICIENCY = 0.92  # best sustained fraction of datasheet bandwidth
K_STEP_OVERHEAD_CYCLES = 64  # barrier, address and loop work per K step of one program


@dataclass(frozen=True)
class Prediction:
    valid: bool
    time_ms: float = float("nan")
    roofline_ms: float = float("nan")
    reason: str = ""  # why the config cannot run, when not valid
    details: dict[str, float] = field(default_factory=dict)


def roofline_ms(flops: float, bytes_moved: float, math: str, spec: GpuSpec) -> float:
    return max(flops / (spec.peak_tflops(math) * 1e12), bytes_moved / (spec.dram_tbps * 1e12)) * 1e3


def predict(profile: LaunchProfile, spec: GpuSpec, min_bytes: float) -> Prediction:
    """Modelled latency of ``profile`` on ``spec``; ``min_bytes`` is the compulsory traffic for the roofline."""
    if isinstance(profile, GemmProfile):
        return _predict_gemm(profile, spec, min_bytes)
    return _predict_stream(profile, spec, min_bytes)


def _occupancy(spec: GpuSpec, threads: int, regs: int, smem: float) -> tuple[int, str]:
    """Programs per SM, or 0 and the limit that is exceeded."""
    if threads > spec.max_threads_per_block:
        return 0, f"{threads} threads per block, limit {spec.max_threads_per_block}"
    if regs > spec.max_regs_per_thread:
        return 0, f"needs about {regs} registers per thread, limit {spec.max_regs_per_thread}"
    if smem > spec.smem_per_block:
        return 0, f"needs {smem / 1024:.0f} KiB shared memory per block, limit {spec.smem_per_block / 1024:.0f} KiB"
    regs_alloc = cdiv(regs, 8) * 8  # registers are allocated in groups
    limits = [spec.max_ctas_per_sm, spec.max_threads_per_sm // threads, spec.regs_per_sm // (regs_alloc * threads)]
    if smem:
        limits.append(int(spec.smem_per_sm // smem))
    ctas = min(limits)
    return (ctas, "") if ctas else (0, f"{threads} threads x {regs_alloc} registers exceed the SM's register file")


def _waves(ctas: int, slots: int) -> tuple[int, float]:
    """(waves, fraction of the SM slots that do work over all waves)."""
    waves = cdiv(ctas, slots)
    return waves, ctas / (waves * slots)


def _predict_gemm(p: GemmProfile, spec: GpuSpec, min_bytes: float) -> Prediction:
    threads = p.num_warps * 32
    tile_in = p.block_m * p.block_k * p.a_bytes + p.block_k * p.block_n * p.b_bytes
    dequant_tile = p.block_k * p.block_n * p.a_bytes if p.dequant_ops else 0.0
    smem = max(1, p.num_stages) * tile_in + dequant_tile
    regs = int(32 + p.block_m * p.block_n / threads + (p.block_m + p.block_n) * p.block_k * p.a_bytes / 4 / threads
               + (p.block_k * p.block_n / threads if p.dequant_ops else 0))
    per_sm, reason = _occupancy(spec, threads, regs, smem)
    roof = roofline_ms(2.0 * p.M * p.N * p.K, min_bytes, p.math, spec)
    if not per_sm:
        return Prediction(valid=False, roofline_ms=roof, reason=reason,
                          details={"smem_bytes": smem, "regs_per_thread": regs})
    grid_m, grid_n = cdiv(p.M, p.block_m), cdiv(p.N, p.block_n)
    ctas = grid_m * grid_n * p.split_k
    slots = spec.sms * per_sm
    waves, wave_eff = _waves(ctas, slots)
    k_per_split = cdiv(cdiv(p.K, p.block_k), p.split_k) * p.block_k

    # Compute: per-SM tensor (or FMA) rate, derated.
    tensor = p.math in spec.tensor_tflops
    peak = spec.peak_tflops(p.math) * 1e12 * (TENSOR_EFFICIENCY if tensor else 1.0)
    per_sm_clk = peak / (spec.sms * spec.clock_ghz * 1e9)
    intensity = 2.0 * p.block_m * p.block_n / ((p.block_m + p.block_n) * p.a_bytes)  # flops per smem byte
    feed = min(1.0, spec.smem_bytes_per_clk * intensity / per_sm_clk)
    warps = per_sm * p.num_warps
    warp_eff = min(1.0, warps / 4) * (1.0 if warps >= 8 else 0.85)
    mma_eff = 0.6 if (tensor and spec.warpgroup_mma and (p.block_m < 64 or p.num_warps % 4)) else 1.0
    step_cycles = 2.0 * p.block_m * p.block_n * p.block_k / per_sm_clk  # one K step with the SM to itself
    step_eff = step_cycles / (step_cycles + K_STEP_OVERHEAD_CYCLES / per_sm)  # other programs hide overhead
    issued = 2.0 * grid_m * p.block_m * grid_n * p.block_n * k_per_split * p.split_k
    compute_s = issued / (peak * feed * warp_eff * mma_eff * step_eff * wave_eff)
    if p.dequant_ops:  # unpacking and scaling weights runs on the FMA units, once per M tile
        compute_s += p.dequant_ops * p.K * p.N * grid_m / (spec.fp32_tflops * 1e12 * wave_eff)

    # Memory: tiles touched by one wave of programs, scaled to all waves, floored at compulsory bytes.
    rows, cols = _first_wave_tiles(p, grid_m, grid_n, min(ctas, slots))
    per_wave = (rows * p.block_m * p.a_bytes + cols * p.block_n * p.b_bytes) * k_per_split
    operand_bytes = p.M * p.K * p.a_bytes + p.K * p.N * p.b_bytes
    if operand_bytes <= spec.l2_bytes / 2:
        dram_in = operand_bytes  # everything stays resident in L2 after the first touch
    else:
        dram_in = max(operand_bytes, per_wave * ctas / min(ctas, slots))
    out_bytes = p.M * p.N * (p.c_bytes if p.split_k == 1 else 4.0 * p.split_k)
    in_flight = per_sm * max(1, p.num_stages - 1) * tile_in
    needed = spec.dram_tbps * 1e12 * spec.dram_latency_us * 1e-6 / spec.sms
    mlp = min(1.0, in_flight / needed)
    bandwidth = spec.dram_tbps * 1e12 * DRAM_EFFICIENCY
    memory_s = (dram_in + out_bytes) / (bandwidth * mlp * min(1.0, 2.0 * wave_eff))

    overlap = min(1.0, (p.num_stages - 1) + 0.5 * (per_sm - 1))
    body_s = max(compute_s, memory_s) + (1.0 - overlap) * min(compute_s, memory_s)
    fill_s = waves * 2 * spec.dram_latency_us * 1e-6  # pipeline prologue and epilogue per wave
    launches = 1
    reduce_s = 0.0
    if p.split_k > 1:  # partial tiles are summed by a second kernel
        launches = 2
        reduce_s = (4.0 * p.split_k + p.c_bytes) * p.M * p.N / bandwidth
    time_ms = (body_s + fill_s + reduce_s + launches * spec.launch_us * 1e-6) * 1e3
    return Prediction(valid=True, time_ms=max(time_ms, roof), roofline_ms=roof, details={
        "ctas": ctas, "ctas_per_sm": per_sm, "waves": waves, "wave_efficiency": wave_eff,
        "smem_bytes": smem, "regs_per_thread": regs, "dram_bytes": dram_in + out_bytes,
        "compute_ms": compute_s * 1e3, "memory_ms": memory_s * 1e3, "smem_feed": feed, "mlp": mlp})


def _first_wave_tiles(p: GemmProfile, grid_m: int, grid_n: int, wave: int) -> tuple[int, int]:
    """Distinct (tile row, split) and (tile column, split) pairs among the first ``wave`` programs."""
    rows, cols = set(), set()
    tiles = grid_m * grid_n
    for pid in range(wave):
        tile, split = pid % tiles, pid // tiles
        if p.group_m == 1:
            m, n = divmod(tile, grid_n)
        else:
            group = p.group_m * grid_n
            first_m = (tile // group) * p.group_m
            size = min(grid_m - first_m, p.group_m)
            m, n = first_m + (tile % group) % size, (tile % group) // size
        rows.add((m, split))
        cols.add((n, split))
    return len(rows), len(cols)


def _predict_stream(p: StreamProfile, spec: GpuSpec, min_bytes: float) -> Prediction:
    threads = p.num_warps * 32
    regs = int(24 + p.live_per_elem * max(1.0, p.block / threads))
    smem = 8.0 * p.num_warps * 4  # cross-warp reduction scratch
    per_sm, reason = _occupancy(spec, threads, regs, smem)
    roof = roofline_ms(p.flops, min_bytes, "fp32", spec)
    if not per_sm:
        return Prediction(valid=False, roofline_ms=roof, reason=reason, details={"regs_per_thread": regs})
    slots = spec.sms * per_sm
    waves, wave_eff = _waves(p.ctas, slots)
    concurrent = min(p.ctas, slots) * p.cta_footprint_bytes
    dram = p.read_bytes + p.write_bytes + (p.reread_bytes if concurrent > spec.l2_bytes / 2 else 0.0)
    block_bytes = p.block * p.elem_bytes
    in_flight = per_sm * block_bytes * max(1, p.num_stages - 1)
    needed = spec.dram_tbps * 1e12 * spec.dram_latency_us * 1e-6 / spec.sms
    mlp = min(1.0, in_flight / needed)
    lanes = min(1.0, p.block / threads)  # threads without elements do no loads
    bandwidth = spec.dram_tbps * 1e12 * DRAM_EFFICIENCY * mlp * lanes
    memory_s = dram / (bandwidth * (wave_eff if waves > 1 else min(1.0, 2.0 * wave_eff)))
    compute_s = p.flops / (spec.fp32_tflops * 1e12 * 0.5 * wave_eff)
    time_ms = (max(memory_s, compute_s) + waves * spec.dram_latency_us * 1e-6 + spec.launch_us * 1e-6) * 1e3
    return Prediction(valid=True, time_ms=max(time_ms, roof), roofline_ms=roof, details={
        "ctas": p.ctas, "ctas_per_sm": per_sm, "waves": waves, "wave_efficiency": wave_eff,
        "regs_per_thread": regs, "dram_bytes": dram, "memory_ms": memory_s * 1e3, "compute_ms": compute_s * 1e3,
        "mlp": mlp})
