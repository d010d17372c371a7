"""Datasheet numbers of the GPUs the analytical model knows (dense peaks, no sparsity)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuSpec:
    key: str
    name: str
    sms: int
    clock_ghz: float  # sustained SM clock under load
    tensor_tflops: dict[str, float]  # dense tensor-core peak by input type
    fp32_tflops: float  # non-tensor (FMA) fp32 peak
    dram_tbps: float
    dram_latency_us: float
    l2_bytes: int
    smem_per_sm: int
    smem_per_block: int
    regs_per_sm: int = 65536
    max_regs_per_thread: int = 255
    max_threads_per_sm: int = 2048
    max_threads_per_block: int = 1024
    max_ctas_per_sm: int = 32
    smem_bytes_per_clk: int = 128  # per SM
    warpgroup_mma: bool = False  # Hopper wgmma: full tensor rate needs 4-warp groups and BLOCK_M >= 64
    launch_us: float = 4.0

    def peak_tflops(self, math: str) -> float:
        """The highest rate this input type reaches (fp32 stays IEEE fp32: no TF32)."""
        return self.tensor_tflops.get(math, self.fp32_tflops)


GPUS = {
    "h100": GpuSpec(key="h100", name="NVIDIA H100 SXM5 80GB", sms=132, clock_ghz=1.755,
                    tensor_tflops={"fp16": 989.4, "bf16": 989.4}, fp32_tflops=66.9, dram_tbps=3.35,
                    dram_latency_us=0.65, l2_bytes=50 * 2**20, smem_per_sm=228 * 1024, smem_per_block=227 * 1024,
                    warpgroup_mma=True),
    "h200": GpuSpec(key="h200", name="NVIDIA H200 SXM 141GB", sms=132, clock_ghz=1.755,
                    tensor_tflops={"fp16": 989.4, "bf16": 989.4}, fp32_tflops=66.9, dram_tbps=4.8,
                    dram_latency_us=0.65, l2_bytes=50 * 2**20, smem_per_sm=228 * 1024, smem_per_block=227 * 1024,
                    warpgroup_mma=True),
    "a100": GpuSpec(key="a100", name="NVIDIA A100 SXM4 80GB", sms=108, clock_ghz=1.41,
                    tensor_tflops={"fp16": 312.0, "bf16": 312.0}, fp32_tflops=19.5, dram_tbps=2.039,
                    dram_latency_us=0.6, l2_bytes=40 * 2**20, smem_per_sm=164 * 1024, smem_per_block=163 * 1024),
}


def spec_for_device_name(name: str) -> GpuSpec | None:
    """The spec of a real GPU by its CUDA device name, e.g. 'NVIDIA H100 80GB HBM3'."""
    upper = name.upper()
    for key in ("H200", "H100", "A100"):
        if key in upper:
            return GPUS[key.lower()]
    return None
