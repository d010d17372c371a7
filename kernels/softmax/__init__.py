"""``softmax``: row-wise softmax of a (rows, N) matrix, fused in one kernel."""

from __future__ import annotations

from tuneforge.core.space import Config, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import StreamProfile, TritonTarget, row_block_space


class SoftmaxTarget(TritonTarget):
    name = "softmax"
    description = "softmax over the last dimension of a (rows, N) matrix"
    dims = ("rows", "N")
    # torch eager on H100 (KernelBench #23): 8.52 ms against 3.85 ms for one read and one write.
    vendor_efficiency = 0.45

    def default_problem(self) -> Problem:
        return Problem(dims={"rows": 4096, "N": 393216}, dtype="fp32")  # KernelBench level 1, #23

    def space(self, problem: Problem) -> Space:
        return row_block_space(problem.dims["N"], max_block=65536)

    def flops(self, problem: Problem) -> float:
        return 5.0 * problem.dims["rows"] * problem.dims["N"]  # max, subtract, exp, sum, divide

    def bytes(self, problem: Problem) -> float:
        return 2.0 * problem.dims["rows"] * problem.dims["N"] * self.dtype_bytes(problem)

    def small_dims(self) -> dict[str, int]:
        return {"rows": 7, "N": 300}

    def odd_dims(self) -> dict[str, int]:
        return {"rows": 3, "N": 1000}

    def launch_profile(self, problem: Problem, config: Config) -> StreamProfile:
        rows, N = problem.dims["rows"], problem.dims["N"]
        row_bytes = N * self.dtype_bytes(problem)
        one_pass = N <= config["BLOCK_N"]
        return StreamProfile(ctas=rows, num_warps=config["num_warps"], num_stages=config["num_stages"],
                             block=config["BLOCK_N"], elem_bytes=self.dtype_bytes(problem),
                             live_per_elem=2 if one_pass else 3,
                             read_bytes=rows * row_bytes, reread_bytes=0.0 if one_pass else rows * row_bytes,
                             write_bytes=rows * row_bytes, cta_footprint_bytes=row_bytes,
                             flops=self.flops(problem))


TARGETS = [SoftmaxTarget()]
