"""A kernel author's own Triton target, from a separate installed package, tuned like a shipped one.

The package (``scale_shift_pkg``: card + Triton kernel + an entry point in ``tuneforge.targets``) is
copied to a temporary directory, built and installed into this environment with pip, and removed
again afterwards; every tuneforge command runs as a real subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tuneforge.kernels import registry
from tuneforge.kernels._triton_common import TritonTarget

from ..conftest import SPACES_DIR

PACKAGE = Path(__file__).parent / "scale_shift_pkg"
TUNEFORGE = [sys.executable, "-m", "tuneforge"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory):
    source = tmp_path_factory.mktemp("pkg") / "scale_shift_pkg"
    shutil.copytree(PACKAGE, source)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run([*pip, "install", "-q", "--no-deps", str(source)], check=True, capture_output=True, text=True)
    yield
    subprocess.run([*pip, "uninstall", "-y", "-q", "tf-scale-shift"], check=True, capture_output=True)


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TUNEFORGE_DATABASE_URL": f"sqlite:///{tmp_path / 'tf.db'}",
           "TUNEFORGE_SPACES_DIR": str(SPACES_DIR)}
    env.pop("TUNEFORGE_BROKER_URL", None)
    return subprocess.run([*TUNEFORGE, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


@pytest.mark.slow
def test_installed_target_tunes_on_cpu_and_sim_and_exports(installed, tmp_path: Path) -> None:
    listed = _cli(tmp_path, "targets", "--json")
    assert "scale_shift" in {t["name"] for t in json.loads(listed.stdout)}, listed.stderr

    cpu = _cli(tmp_path, "tune", "scale_shift", "--device", "cpu", "--shape", "rows=4,N=100", "--trials", "2",
               "--json")
    assert cpu.returncode == 0, cpu.stderr
    job = json.loads(cpu.stdout)
    assert (job["status"], job["n_trials"]) == ("succeeded", 2)
    trials = json.loads(_cli(tmp_path, "trials", job["job_id"], "--json").stdout)
    # Verified for real under the Triton interpreter, against the package's own reference.
    assert {t["status"] for t in trials} == {"ok"} and {t["provenance"] for t in trials} == {"verified-only"}
    assert all(t["metrics"]["max_err_rel"] < 1e-6 for t in trials)

    sim = _cli(tmp_path, "tune", "scale_shift", "--device", "sim:h100", "--trials", "4", "--json")
    assert sim.returncode == 0, sim.stderr
    best = json.loads(sim.stdout)["best"]
    assert best["provenance"] == "modelled" and "(modelled)" in best["device_name"]
    assert best["metrics"]["time_ms"] > best["metrics"]["roofline_ms"] > 0

    board = json.loads(_cli(tmp_path, "best", "scale_shift", "--device", "sim:h100", "--json").stdout)
    assert board[0]["params"] == best["params"]
    pulled = _cli(tmp_path, "pull", "scale_shift", "--device", "sim:h100", "-o", str(tmp_path / "tuned.py"))
    assert pulled.returncode == 0, pulled.stderr
    exported = (tmp_path / "tuned.py").read_text()
    assert "tf_scale_shift.triton_kernel" in exported and "_scale_shift_kernel" in exported


@pytest.mark.slow
def test_installed_target_is_checked_like_a_shipped_one(installed, tmp_path: Path) -> None:
    bad = _cli(tmp_path, "tune", "scale_shift", "--device", "sim:h100", "--shape", "rows=4,K=9", "--trials", "1")
    assert bad.returncode != 0 and "no dimension(s) ['K']" in bad.stderr + bad.stdout
    code = ("from tuneforge.kernels.registry import get_target, target_source; t = get_target('scale_shift'); "
            "s = target_source('scale_shift'); print(t.impl_module, s.distribution, s.entry_point)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["tf_scale_shift.triton_kernel", "tf-scale-shift", "scale_shift"]


def _fake_distribution(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """An installed distribution as importlib.metadata sees it: a dist-info folder beside its modules."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[tuneforge.targets]\n{lines}\n")
    for module, text in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(text))


def test_broken_or_clashing_packages_do_not_hide_other_targets(tmp_path: Path, monkeypatch) -> None:
    card = """
        from tuneforge.kernels.softmax import SoftmaxTarget

        class Clash(SoftmaxTarget):
            name = "matmul"

        class Fine(SoftmaxTarget):
            name = "fine_softmax"

        class Shouting(SoftmaxTarget):
            name = "Bad Name"

        NOT_A_TARGET = 42
    """
    _fake_distribution(tmp_path, "user_cards", {"clash": "user_cards_mod:Clash", "fine": "user_cards_mod:Fine",
                                                "shout": "user_cards_mod:Shouting",
                                                "junk": "user_cards_mod:NOT_A_TARGET",
                                                "gone": "no_such_module_anywhere"},
                       {"user_cards_mod": card})
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.clear_cache()
    try:
        found = registry.discover()
        assert isinstance(found.targets["fine_softmax"], TritonTarget)
        assert found.targets["matmul"].__class__.__name__ == "MatmulTarget"  # the shipped one stays
        assert set(found.errors) == {"clash", "shout", "junk", "gone"}
        assert "already provides" in found.errors["clash"] and "'tuneforge'" in found.errors["clash"]
        assert "lowercase" in found.errors["shout"] and "int" in found.errors["junk"]
        assert "user_cards" in found.errors["gone"] and "ModuleNotFoundError" in found.errors["gone"]
        with pytest.raises(Exception, match="no_such_module_anywhere"):
            registry.get_target("gone")
        assert registry.target_source("fine_softmax").distribution == "user_cards"
    finally:
        monkeypatch.undo()
        registry.clear_cache()


@pytest.mark.slow
def test_from_autotune_tunes_over_the_kernels_own_config_list(installed, tmp_path: Path) -> None:
    listed = [{"BLOCK_N": 128, "num_warps": 1, "num_stages": 1}, {"BLOCK_N": 512, "num_warps": 4, "num_stages": 2},
              {"BLOCK_N": 1024, "num_warps": 8, "num_stages": 1}]
    kernel = "tf_scale_shift.autotuned:scale_shift_kernel"
    done = _cli(tmp_path, "tune", "scale_shift", "--from-autotune", kernel, "--device", "sim:h100", "--trials", "5",
                "--json")
    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["target"] == f"scale_shift@{kernel}" and job["best"]["params"] in listed
    trials = json.loads(_cli(tmp_path, "trials", job["job_id"], "--json").stdout)
    # The space is the three listed configs and nothing else: a budget of five stops at three.
    assert sorted((t["params"] for t in trials), key=lambda p: p["BLOCK_N"]) == listed

    cpu = _cli(tmp_path, "tune", "scale_shift", "--from-autotune", kernel, "--device", "cpu", "--shape",
               "rows=4,N=100", "--trials", "1", "--json")
    assert cpu.returncode == 0 and json.loads(cpu.stdout)["status"] == "succeeded", cpu.stderr

    outside = _cli(tmp_path, "tune", "scale_shift", "--from-autotune", "json:dumps", "--device", "sim:h100")
    assert outside.returncode != 0 and "must live in the package of target 'scale_shift'" in outside.stderr
