"""The distribution installs one import name, and its core (API, dashboard, client) runs without torch.

Builds the wheel once, installs it without extras into a fresh virtual environment, and runs the
API there in a subprocess: what the package declares must be enough, and nothing heavy may come along.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from tuneforge.core.settings import REPO_ROOT

from ..conftest import SPACES_DIR

pytestmark = pytest.mark.slow
HEAVY = ("torch", "triton", "kernel_tuner", "scalesim", "matplotlib", "sklearn")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # A clean copy: a checkout's build/ folder may hold files of modules that no longer exist.
    source = tmp_path_factory.mktemp("source") / "tuneforge"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", "test-output", "bench-output", "*.db"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(source)],
                   check=True, capture_output=True, text=True)
    [built] = out.glob("tuneforge-*.whl")
    return built


def _requirements(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        [meta] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = Parser().parsestr(archive.read(meta).decode())
    return [Requirement(r) for r in headers.get_all("Requires-Dist") or []]


def test_wheel_holds_only_the_tuneforge_import_name(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert tops == {"tuneforge", f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info"}


def test_core_needs_nothing_heavy_and_torch_triton_are_ranges(wheel: Path) -> None:
    requirements = _requirements(wheel)
    core = {r.name.lower() for r in requirements if r.marker is None}
    assert not core & {"torch", "triton", "kernel-tuner", "kernel_tuner", "scalesim", "matplotlib", "scikit-learn"}

    def extra_of(name: str) -> Requirement:
        [found] = [r for r in requirements if r.name == name and r.marker and r.marker.evaluate({"extra": "worker"})]
        return found

    # The GPU boxes run torch 2.11 with Triton 3.6; this machine's CPU wheels are torch 2.13.0, Triton 3.7.1.
    assert {"2.11.0", "2.13.0"} <= set(extra_of("torch").specifier.filter(["2.10.0", "2.11.0", "2.13.0"]))
    assert {"3.6.0", "3.7.1"} <= set(extra_of("triton").specifier.filter(["3.5.0", "3.6.0", "3.7.1"]))
    assert not extra_of("torch").specifier.contains(Version("2.10.0"))


def test_core_install_serves_the_api_without_torch(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # This interpreter's pip installs into the new environment, from the same indexes as `pip install .`.
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile",
                    str(wheel)], check=True, capture_output=True, text=True)
    code = ("import sys\n"
            "from fastapi.testclient import TestClient\n"
            "from tuneforge.api.app import create_app\n"
            "from tuneforge.api import client\n"
            "c = TestClient(create_app(run_jobs=False), base_url='http://127.0.0.1')\n"
            "assert c.get('/api/v1/targets').status_code == 200\n"
            "assert c.get('/api/v1/strategies').status_code == 200\n"
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
            "import importlib.util\n"
            f"print(sorted(m for m in {HEAVY!r} if importlib.util.find_spec(m)))\n")
    env = {"PATH": "/usr/bin:/bin", "TUNEFORGE_DATABASE_URL": "sqlite://", "TUNEFORGE_SPACES_DIR": str(SPACES_DIR)}
    run = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["[]", "[]"], run.stdout
    # The installed files: the package, its metadata and the console script, nothing else.
    site = next((venv / "lib").glob("python3*/site-packages"))
    [record] = site.glob("tuneforge-*.dist-info/RECORD")
    tops = {line.split(",")[0].split("/")[0] for line in record.read_text().splitlines()}
    assert tops == {"tuneforge", record.parent.name, ".."}, tops
    assert (venv / "bin" / "tuneforge").exists()
    assert not {p.name for p in site.iterdir()} & {"api", "core", "db", "search", "worker", "kernels", "agents",
                                                   "evaluators"}
