"""Installs the repository's folders as subpackages of the one import name ``tuneforge``.

The folders stay at the top of the repository (api/, core/, ...); installed, they are
``tuneforge.api``, ``tuneforge.core``, ...  so a user's environment gains no generic top-level name.
Everything else about the distribution lives in pyproject.toml.
"""

from setuptools import find_packages, setup

FOLDERS = ("api", "agents", "bench", "core", "db", "evaluators", "kernels", "search", "worker")

subpackages = find_packages(include=[pattern for folder in FOLDERS for pattern in (folder, f"{folder}.*")])
setup(
    packages=["tuneforge", *(f"tuneforge.{name}" for name in subpackages)],
    package_dir={"tuneforge": "tuneforge", **{f"tuneforge.{folder}": folder for folder in FOLDERS}},
)
