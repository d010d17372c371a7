"""``matmul``: C = A @ B for fp16 / bf16 / fp32, tiled, grouped tile order, or split-K."""

from __future__ import annotations

from tuneforge.core.space import Config, Constraint, Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import GemmProfile, TritonTarget, next_pow2, pow2_values


class MatmulTarget(TritonTarget):
    name = "matmul"
    description = "dense matrix multiplication C[M,N] = A[M,K] @ B[K,N], fp32 accumulation"
    dims = ("M", "N", "K")
    # cuBLAS reaches about 75% of H100 dense fp16 peak on 4096^3 (~740 of 989 TFLOPS).
    vendor_efficiency = 0.75

    def default_problem(self) -> Problem:
        return Problem(dims={"M": 4096, "N": 4096, "K": 4096}, dtype="fp16")  # KernelBench level 1, #1

    def space(self, problem: Problem) -> Space:
        M, N, K = (problem.dims[d] for d in self.dims)
        fit_m, fit_n = max(16, next_pow2(M)), max(16, next_pow2(N))
        return Space(
            params=[Param("variant", ("tiled", "grouped", "splitk")),
                    Param("BLOCK_M", pow2_values(16, 256)), Param("BLOCK_N", pow2_values(16, 256)),
                    Param("BLOCK_K", pow2_values(16, 128)), Param("GROUP_M", (1, 4, 8, 16)),
                    Param("SPLIT_K", (1, 2, 4, 8, 16)), Param("num_warps", (2, 4, 8)),
                    Param("num_stages", (1, 2, 3, 4, 5))],
            constraints=[
                Constraint("tiled uses GROUP_M=1 and SPLIT_K=1",
                           lambda c: c["variant"] != "tiled" or (c["GROUP_M"] == 1 and c["SPLIT_K"] == 1)),
                Constraint("grouped uses GROUP_M>1 and SPLIT_K=1",
                           lambda c: c["variant"] != "grouped" or (c["GROUP_M"] > 1 and c["SPLIT_K"] == 1)),
                Constraint("splitk uses SPLIT_K>1 and GROUP_M=1",
                           lambda c: c["variant"] != "splitk" or (c["SPLIT_K"] > 1 and c["GROUP_M"] == 1)),
                Constraint(f"BLOCK_M <= {fit_m} and BLOCK_N <= {fit_n} (no tile larger than the padded matrix)",
                           lambda c: c["BLOCK_M"] <= fit_m and c["BLOCK_N"] <= fit_n),
                Constraint(f"SPLIT_K * BLOCK_K <= K={K} (every split gets work)",
                           lambda c: c["SPLIT_K"] * c["BLOCK_K"] <= max(K, 16)),
            ])

    def flops(self, problem: Problem) -> float:
        return 2.0 * problem.dims["M"] * problem.dims["N"] * problem.dims["K"]

    def bytes(self, problem: Problem) -> float:
        M, N, K = (problem.dims[d] for d in self.dims)
        return float((M * K + K * N + M * N) * self.dtype_bytes(problem))

    def small_dims(self) -> dict[str, int]:
        return {"M": 80, "N": 72, "K": 136}

    def odd_dims(self) -> dict[str, int]:
        return {"M": 45, "N": 37, "K": 71}

    def launch_profile(self, problem: Problem, config: Config) -> GemmProfile:
        elt = self.dtype_bytes(problem)
        return GemmProfile(
            M=problem.dims["M"], N=problem.dims["N"], K=problem.dims["K"],
            block_m=config["BLOCK_M"], block_n=config["BLOCK_N"], block_k=config["BLOCK_K"],
            group_m=config["GROUP_M"] if config["variant"] == "grouped" else 1,
            split_k=config["SPLIT_K"] if config["variant"] == "splitk" else 1,
            num_warps=config["num_warps"], num_stages=config["num_stages"], math=problem.dtype or "fp32",
            a_bytes=elt, b_bytes=elt, c_bytes=elt)


    def math_dtype(self, problem: Problem) -> str:
        return problem.dtype or "fp32"


MATMUL = MatmulTarget()
TARGETS = [MATMUL]
