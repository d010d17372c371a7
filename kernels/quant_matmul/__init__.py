"""``quant_matmul``: y = x @ W with W stored as int8 or packed int4 plus per-group scales."""

from __future__ import annotations

from typing import ClassVar

from tuneforge.core.errors import UserInputError
from tuneforge.core.space import Config, Constraint, Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import GemmProfile, TritonTarget, next_pow2, pow2_values
from tuneforge.kernels.matmul import MATMUL

QUANT_PARAMS = ("bits", "group_size", "pack_dim")


class QuantMatmulTarget(TritonTarget):
    name = "quant_matmul"
    description = ("weight-only quantized matmul: fp16/bf16 activations (M, K) times an int8 or int4 "
                   "weight (K, N) with per-group scales; the quantization layout is part of the space")
    dims = ("M", "N", "K")
    dtypes = ("fp16", "bf16")
    reference_params: ClassVar[tuple[str, ...]] = QUANT_PARAMS

    def default_problem(self) -> Problem:
        return Problem(dims={"M": 16, "N": 8192, "K": 8192}, dtype="fp16")  # a decode-time projection

    def check_problem(self, problem: Problem) -> None:
        self.check_even(problem, "N", "K")
        if problem.dims["K"] % 32:
            raise UserInputError("quant_matmul needs K divisible by 32 (the smallest group); "
                                 f"change K={problem.dims['K']}")

    def space(self, problem: Problem) -> Space:
        M, N, K = (problem.dims[d] for d in self.dims)
        fit_m, fit_n = max(16, next_pow2(M)), max(16, next_pow2(N))
        return Space(
            params=[Param("bits", (4, 8)), Param("group_size", (32, 64, 128)), Param("pack_dim", ("K", "N")),
                    Param("BLOCK_M", pow2_values(16, 64)), Param("BLOCK_N", pow2_values(16, 256)),
                    Param("BLOCK_K", pow2_values(16, 128)), Param("num_warps", (2, 4, 8)),
                    Param("num_stages", (1, 2, 3, 4))],
            constraints=[
                Constraint("int8 weights are not packed: bits=8 uses pack_dim=K",
                           lambda c: c["bits"] == 4 or c["pack_dim"] == "K"),
                Constraint("BLOCK_K divides group_size (one scale row per K block)",
                           lambda c: c["group_size"] % c["BLOCK_K"] == 0),
                Constraint(f"K={K} is a multiple of group_size", lambda c: K % c["group_size"] == 0),
                Constraint(f"BLOCK_M <= {fit_m} and BLOCK_N <= {fit_n} (no tile larger than the padded matrix)",
                           lambda c: c["BLOCK_M"] <= fit_m and c["BLOCK_N"] <= fit_n),
            ])

    def flops(self, problem: Problem) -> float:
        return 2.0 * problem.dims["M"] * problem.dims["N"] * problem.dims["K"]

    def bytes(self, problem: Problem) -> float:
        """The fewest bytes any layout in the space moves: int4 weights with the largest groups."""
        return self.min_bytes(problem, {"bits": 4, "group_size": 128})

    def min_bytes(self, problem: Problem, config: Config) -> float:
        M, N, K = (problem.dims[d] for d in self.dims)
        elt = self.dtype_bytes(problem)
        weight = K * N * config["bits"] / 8 + (K // config["group_size"]) * N * elt
        return float((M * K + M * N) * elt + weight)

    def math_dtype(self, problem: Problem) -> str:
        return problem.dtype or "fp16"

    def baseline_of(self, problem: Problem) -> tuple[TritonTarget, Problem]:
        """What weight-only quantization competes with: torch's matmul on the unquantized weight."""
        return MATMUL, problem

    def small_dims(self) -> dict[str, int]:
        return {"M": 20, "N": 72, "K": 256}

    def odd_dims(self) -> dict[str, int]:
        return {"M": 3, "N": 38, "K": 128}

    def launch_profile(self, problem: Problem, config: Config) -> GemmProfile:
        elt = self.dtype_bytes(problem)
        return GemmProfile(
            M=problem.dims["M"], N=problem.dims["N"], K=problem.dims["K"],
            block_m=config["BLOCK_M"], block_n=config["BLOCK_N"], block_k=config["BLOCK_K"], group_m=1, split_k=1,
            num_warps=config["num_warps"], num_stages=config["num_stages"], math=problem.dtype or "fp16",
            a_bytes=elt, b_bytes=config["bits"] / 8 + elt / config["group_size"], c_bytes=elt, dequant_ops=4.0)


TARGETS = [QuantMatmulTarget()]
