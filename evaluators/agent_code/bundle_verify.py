"""Verifying a submitted bundle's kernel: both of its modules are user code, so both run sandboxed.

The kernel goes through exactly the path of agent-written code (``verify.py``, ``supervise.py``): static
checks, a sandboxed child that gets inputs and hands back raw bytes, the verdict in this process. The
bundle's reference, which defines the expected output, runs in a second sandboxed child of its own (same
confinement, torch compute allowed): this process sends it float64 copies of the inputs it made and
rebuilds the answer from bytes, at the output shape the bundle declares. The comparison, the tolerances and
the verdict stay here; a reference that fails names its rule as ``reference-<rule>``.
"""

from __future__ import annotations

import random

import torch

from tuneforge.core.space import Config
from tuneforge.core.types import Problem, TrialStatus
from tuneforge.evaluators.agent_code import frames
from tuneforge.evaluators.agent_code.reference_checks import FUNCTION, check_reference
from tuneforge.evaluators.agent_code.sandbox import Limits, Sandbox, SandboxUnavailable
from tuneforge.evaluators.agent_code.supervise import _died, _raised, _raw, _spec, _tensor, verify_in_sandbox
from tuneforge.evaluators.agent_code.verify import static_verdict
from tuneforge.evaluators.verify.plan import RuleFailed, TimingRequest, Verdict, build_request
from tuneforge.kernels.bundle import BundleTarget

_rng = random.SystemRandom()


def reference_verdict(source: str) -> Verdict | None:
    """A rejection of the bundle's reference by its static checks, or None when it may run (sandboxed)."""
    violations = check_reference(source)
    if not violations:
        return None
    return Verdict.fail(TrialStatus.INVALID, f"reference-{violations[0].rule}",
                        "; ".join(str(v) for v in violations[:6]))


class SandboxedReference:
    """What the verification needs of a target's implementation (input and output shapes, the reference),
    with the bundle's reference run in its own sandboxed child. Start it before the candidate runs so its
    imports overlap; :meth:`close` ends the child."""

    def __init__(self, target: BundleTarget, limits: Limits) -> None:
        self.target, self.limits = target, limits
        try:
            self.box = Sandbox("cpu", limits)
        except OSError as exc:
            raise SandboxUnavailable(f"could not start the sandbox: {exc}") from exc
        self.loaded = False
        try:
            self.box.send({"op": "load", "role": "reference", "source": target.bundle.reference,
                           "function": FUNCTION, "kernel_kwargs": {}, "device": "cpu",
                           "scratch": str(self.box.scratch), "tool_dirs": []})
        except frames.ChannelClosed:
            pass  # the child is gone already: the first reference call reports why

    def input_shapes(self, dims: dict[str, int]) -> list[tuple[int, ...]]:
        return self.target.input_shapes(dims)

    def output_shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        return self.target.output_shape(dims)

    def reference(self, *inputs: torch.Tensor) -> torch.Tensor:
        """The bundle's reference on float64 copies of ``inputs``, computed in its sandbox."""
        exact = [t.detach().cpu().to(torch.float64) for t in inputs]
        try:
            if not self.loaded:
                ready, _ = self.box.receive()
                if "error" in ready or ready.get("blocked"):
                    raise self._failed(_raised(ready, str(self.box.scratch)), "import")
                self.loaded = True
            answer, buffers = self.box.ask({"op": "reference", "inputs": [_spec(t) for t in exact]},
                                           [_raw(t) for t in exact])
        except frames.ChannelClosed:
            raise self._failed(_died(self.box, self.limits)) from None
        if "error" in answer or answer.get("blocked"):
            raise self._failed(_raised(answer, str(self.box.scratch)))
        shape = answer.get("shape")
        if (answer.get("returned") != "new-tensor" or len(buffers) != 1 or not isinstance(shape, list)
                or len(shape) > 8 or not all(isinstance(n, int) and n >= 0 for n in shape)):
            raise RuleFailed(TrialStatus.CRASHED, "reference-output",
                             f"the bundle's reference returned {answer.get('returned', 'nothing')}, not a tensor")
        return _tensor(buffers[0], torch.empty(shape, dtype=torch.float64))

    @staticmethod
    def _failed(failed: RuleFailed, rule: str | None = None) -> RuleFailed:
        return RuleFailed(TrialStatus.CRASHED, f"reference-{rule or failed.rule}",
                          f"the bundle's reference failed in its sandbox: {failed.message}")

    def close(self) -> None:
        self.box.close()


def verify_bundle_source(target: BundleTarget, problem: Problem, config: Config, source: str, *,
                         device: str = "cpu", small: bool = True, limits: Limits = Limits(),
                         timing: TimingRequest | None = None, static: bool = True) -> Verdict:
    """Verify the bundle's kernel ``source`` (or a variant of it) at ``config`` against its sandboxed reference.

    ``static=False`` skips both modules' static checks, to exercise the sandbox on its own.
    """
    if static:
        rejected = (static_verdict(source, function=target.function_name, dtype=problem.dtype)
                    or reference_verdict(target.bundle.reference))
        if rejected:
            return rejected
    request = build_request(target, problem, config, device=device, small=small, rng=_rng, source=source,
                            timing=timing, fresh_shapes=True)
    try:
        reference = SandboxedReference(target, limits)
    except SandboxUnavailable as exc:
        return Verdict.fail(TrialStatus.CRASHED, "sandbox-unavailable", str(exc))
    try:
        return verify_in_sandbox(request, limits, impl=reference)
    finally:
        reference.close()
