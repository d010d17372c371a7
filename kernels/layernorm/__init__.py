"""``layernorm``: LayerNorm forward over the last dimension of (rows, N), with weight and bias."""

from __future__ import annotations

from tuneforge.core.space import Config, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import StreamProfile, TritonTarget, row_block_space


class LayerNormTarget(TritonTarget):
    name = "layernorm"
    description = "LayerNorm forward (eps 1e-5, affine) over the last dimension of a (rows, N) matrix"
    dims = ("rows", "N")
    # torch eager's layer_norm kernel streams near 60% of HBM bandwidth at LLM-sized rows.
    vendor_efficiency = 0.6

    def default_problem(self) -> Problem:
        return Problem(dims={"rows": 8192, "N": 8192}, dtype="fp32")

    def space(self, problem: Problem) -> Space:
        return row_block_space(problem.dims["N"], max_block=32768)

    def flops(self, problem: Problem) -> float:
        return 8.0 * problem.dims["rows"] * problem.dims["N"]

    def bytes(self, problem: Problem) -> float:
        rows, N = problem.dims["rows"], problem.dims["N"]
        return float((2 * rows * N + 2 * N) * self.dtype_bytes(problem))

    def small_dims(self) -> dict[str, int]:
        return {"rows": 6, "N": 300}

    def odd_dims(self) -> dict[str, int]:
        return {"rows": 3, "N": 1000}

    def launch_profile(self, problem: Problem, config: Config) -> StreamProfile:
        rows, N = problem.dims["rows"], problem.dims["N"]
        row_bytes = N * self.dtype_bytes(problem)
        # The statistics pass and the normalising pass both read the row; weight and bias are
        # read by every row but stay in L2 after the first.
        return StreamProfile(ctas=rows, num_warps=config["num_warps"], num_stages=config["num_stages"],
                             block=config["BLOCK_N"], elem_bytes=self.dtype_bytes(problem), live_per_elem=3,
                             read_bytes=rows * row_bytes + 2 * row_bytes,
                             reread_bytes=rows * row_bytes, write_bytes=rows * row_bytes,
                             cta_footprint_bytes=row_bytes, flops=self.flops(problem))


TARGETS = [LayerNormTarget()]
