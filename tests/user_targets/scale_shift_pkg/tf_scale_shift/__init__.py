"""``scale_shift``: y = 2 x + 1 over a (rows, N) matrix, the card tuneforge reads (no torch, no triton)."""

from tuneforge import Constraint, Param, Problem, Space, StreamProfile, TritonTarget


class ScaleShift(TritonTarget):
    name = "scale_shift"
    description = "y = 2 x + 1, elementwise over a (rows, N) matrix"
    dims = ("rows", "N")

    def default_problem(self) -> Problem:
        return Problem(dims={"rows": 1024, "N": 8192}, dtype="fp32")

    def space(self, problem: Problem) -> Space:
        return Space(params=[Param("BLOCK_N", (64, 128, 256, 512, 1024)), Param("num_warps", (1, 2, 4, 8)),
                             Param("num_stages", (1, 2))],
                     constraints=[Constraint("BLOCK_N >= 32 * num_warps", lambda c: c["BLOCK_N"] >= 32 * c["num_warps"])])

    def flops(self, problem: Problem) -> float:
        return 2.0 * problem.dims["rows"] * problem.dims["N"]

    def bytes(self, problem: Problem) -> float:
        return 2.0 * problem.dims["rows"] * problem.dims["N"] * self.dtype_bytes(problem)

    def small_dims(self) -> dict[str, int]:
        return {"rows": 3, "N": 300}

    def odd_dims(self) -> dict[str, int]:
        return {"rows": 5, "N": 77}

    def launch_profile(self, problem: Problem, config) -> StreamProfile:
        rows, n = problem.dims["rows"], problem.dims["N"]
        row_bytes = n * self.dtype_bytes(problem)
        return StreamProfile(ctas=rows, num_warps=config["num_warps"], num_stages=config["num_stages"],
                             block=config["BLOCK_N"], elem_bytes=self.dtype_bytes(problem), live_per_elem=1,
                             read_bytes=rows * row_bytes, reread_bytes=0.0, write_bytes=rows * row_bytes,
                             cta_footprint_bytes=row_bytes, flops=self.flops(problem))


TARGETS = [ScaleShift()]
