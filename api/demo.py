"""``make demo``: real tuning jobs end to end in embedded mode, each number labelled."""

from __future__ import annotations

import shutil
import subprocess
import sys

from rich.console import Console
from rich.rule import Rule

console = Console()

MATMUL_4K = ["matmul", "--shape", "M=4096,N=4096,K=4096", "--dtype", "fp16"]
STEPS = [
    ("A real GPU's measured tuning space (CLBlast GEMM on an RTX 3090), replayed: times are measurements "
     "read back, not taken now", ["tune", "--device", "replay:gemm_RTX_3090", "--trials", "100"]),
    ("Triton matmul 4096^3 fp16: each config verified under the Triton interpreter on this CPU at a small size, "
     "latency modelled for an H100", ["tune", *MATMUL_4K, "--device", "sim:h100", "--trials", "40"]),
    ("Triton matmul verified for real on this CPU (interpreter: correctness only, no timing)",
     ["tune", "matmul", "--device", "cpu", "--shape", "M=128,N=128,K=128", "--trials", "6"]),
]
GPU_STEP = ("Triton matmul 4096^3 fp16 measured on this machine's GPU",
            ["tune", *MATMUL_4K, "--device", "cuda", "--trials", "40"])


def _has_gpu() -> bool:
    return shutil.which("nvidia-smi") is not None and subprocess.run(
        ["nvidia-smi", "-L"], capture_output=True).returncode == 0


def main() -> int:
    steps = STEPS + ([GPU_STEP] if _has_gpu() else [])
    for title, args in steps:
        console.print(Rule(title))
        console.print(f"$ tuneforge {' '.join(args)}", style="dim")
        if subprocess.run([sys.executable, "-m", "tuneforge", *args]).returncode:
            return 1
    console.print(Rule("Best configs stored so far"))
    subprocess.run([sys.executable, "-m", "tuneforge", "best", "matmul"])
    if not _has_gpu():
        console.print("No GPU here: the cuda step was skipped; on a GPU machine `make demo` also measures it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
