"""``rmsnorm``: RMSNorm over the channels of a (B, C, H, W) tensor (KernelBench level 1, #36)."""

from __future__ import annotations

from tuneforge.core.space import Config, Constraint, Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import StreamProfile, TritonTarget, cdiv, next_pow2, pow2_values


class RMSNormTarget(TritonTarget):
    name = "rmsnorm"
    description = "x / sqrt(mean(x^2 over C) + 1e-5) for x of shape (B, C, H, W)"
    dims = ("B", "C", "H", "W")
    # torch eager on H100 (KernelBench #36): 14.2 ms against 4.49 ms for one read and one write.
    vendor_efficiency = 0.32

    def default_problem(self) -> Problem:
        return Problem(dims={"B": 112, "C": 64, "H": 512, "W": 512}, dtype="fp32")

    def space(self, problem: Problem) -> Space:
        fit_c = max(4, next_pow2(problem.dims["C"]))
        fit_s = max(16, next_pow2(problem.dims["H"] * problem.dims["W"]))
        return Space(
            params=[Param("BLOCK_C", pow2_values(4, 256)), Param("BLOCK_S", pow2_values(16, 4096)),
                    Param("num_warps", (1, 2, 4, 8, 16)), Param("num_stages", (1, 2, 3))],
            constraints=[
                Constraint(f"BLOCK_C <= {fit_c} and BLOCK_S <= {fit_s} (no block larger than the padded tensor)",
                           lambda c: c["BLOCK_C"] <= fit_c and c["BLOCK_S"] <= fit_s),
                Constraint("BLOCK_C * BLOCK_S <= 65536", lambda c: c["BLOCK_C"] * c["BLOCK_S"] <= 65536)])

    def _elements(self, problem: Problem) -> int:
        d = problem.dims
        return d["B"] * d["C"] * d["H"] * d["W"]

    def flops(self, problem: Problem) -> float:
        return 3.0 * self._elements(problem)

    def bytes(self, problem: Problem) -> float:
        return 2.0 * self._elements(problem) * self.dtype_bytes(problem)

    def small_dims(self) -> dict[str, int]:
        return {"B": 2, "C": 24, "H": 5, "W": 7}

    def odd_dims(self) -> dict[str, int]:
        return {"B": 3, "C": 67, "H": 3, "W": 3}

    def launch_profile(self, problem: Problem, config: Config) -> StreamProfile:
        d = problem.dims
        total = self._elements(problem) * self.dtype_bytes(problem)
        one_pass = d["C"] <= config["BLOCK_C"]
        return StreamProfile(ctas=d["B"] * cdiv(d["H"] * d["W"], config["BLOCK_S"]), num_warps=config["num_warps"],
                             num_stages=config["num_stages"], block=config["BLOCK_C"] * config["BLOCK_S"],
                             elem_bytes=self.dtype_bytes(problem),
                             live_per_elem=2, read_bytes=total, reread_bytes=0.0 if one_pass else total,
                             write_bytes=total,
                             cta_footprint_bytes=d["C"] * config["BLOCK_S"] * self.dtype_bytes(problem),
                             flops=self.flops(problem))


TARGETS = [RMSNormTarget()]
