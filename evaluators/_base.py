"""The device interface: where candidates are evaluated.

A device is named by a spec string: ``cpu``, ``cuda``, ``sim:h100``,
``sim:systolic``, ``replay:<file>``. Device modules must import without torch or
triton; they load them inside ``evaluate``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from tuneforge.core.errors import UserInputError
from tuneforge.core.settings import Settings
from tuneforge.core.types import Candidate, Problem, Provenance, TrialResult
from tuneforge.kernels._base import Target


class Device(ABC):
    scheme: ClassVar[str]  # the part of the spec before ':' ("replay", "sim", "cpu", "cuda")
    queue: ClassVar[str]  # worker queue kind: "cuda", "cpu" or "sim"
    provenance: ClassVar[Provenance]
    families: ClassVar[tuple[str, ...]] = ()  # target families this device can evaluate

    def __init__(self, spec: str, settings: Settings) -> None:
        self.spec = spec
        self.settings = settings

    @property
    def hardware_name(self) -> str:
        """The real or modelled hardware, e.g. 'NVIDIA GeForce RTX 3090 (replayed)'."""
        return self.spec

    def own_target(self) -> Target | None:
        """A target this device brings with it (a recorded space names its own kernel)."""
        return None

    def check_target(self, target: Target, problem: Problem) -> None:
        """Raise UserInputError when this device cannot evaluate ``target`` at ``problem``."""
        if target.family not in self.families:
            raise UserInputError(f"device {self.spec!r} cannot evaluate {target.family} target {target.name!r}; "
                                 f"it takes {', '.join(self.families)} targets")

    @abstractmethod
    def evaluate(self, target: Target, problem: Problem, candidate: Candidate) -> TrialResult:
        """Evaluate one candidate. Never raises for a bad candidate: failures are results."""

    def baseline(self, target: Target, problem: Problem) -> TrialResult | None:
        """The reference implementation's result on this device (torch eager/cuBLAS), if it has one."""
        return None

    def describe(self) -> dict[str, Any]:
        return {"spec": self.spec, "queue": self.queue, "provenance": str(self.provenance),
                "hardware": self.hardware_name, "families": list(self.families)}

    @classmethod
    def examples(cls, settings: Settings) -> list[str]:
        """Specs of this scheme worth listing in ``tuneforge devices``."""
        return [cls.scheme]
