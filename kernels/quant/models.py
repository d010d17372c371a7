"""Small real models to quantize: trained here on scikit-learn's bundled digits dataset
(1,797 8x8 images, shipped inside the package, no download), deterministically, on the
CPU, and cached on disk after the first training (a few seconds).

Each model is a list of its weight layers in order, so a quantization layout can name
them, and a description of each as an accelerator layer (SCALE-Sim convention).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from tuneforge.kernels.accel.layers import Layer

SEED = 0
TEST_FRACTION = 0.25
EPOCHS = 60


@dataclass(frozen=True)
class ModelSpec:
    name: str
    kind: str  # "mlp" or "cnn"
    widths: tuple[int, ...]  # mlp: hidden widths; cnn: conv channels

    def weight_layers(self) -> list[tuple[str, Layer]]:
        """(torch module name, accelerator layer for one image)."""
        if self.kind == "mlp":
            sizes = (64, *self.widths, 10)
            return [(f"net.{2 * i}", Layer.gemm(f"fc{i}", 1, n, k)) for i, (k, n) in enumerate(zip(sizes, sizes[1:]))]
        side, cin, out = 8, 1, []
        for i, cout in enumerate(self.widths):
            out.append((f"net.{2 * i}", Layer(f"conv{i}", side, side, 3, 3, cin, cout, 1)))
            side, cin = side - 2, cout
        out.append((f"net.{2 * len(self.widths) + 1}", Layer.gemm("fc", 1, 10, side * side * cin)))
        return out

    def build(self):
        import torch.nn as nn

        if self.kind == "mlp":
            sizes = (64, *self.widths, 10)
            mods: list[Any] = []
            for k, n in zip(sizes, sizes[1:]):
                mods += [nn.Linear(k, n), nn.ReLU()]
            return _Net(nn.Sequential(*mods[:-1]), flatten_input=True)
        mods, cin = [], 1
        for cout in self.widths:
            mods += [nn.Conv2d(cin, cout, 3), nn.ReLU()]
            cin = cout
        side = 8 - 2 * len(self.widths)
        mods += [nn.Flatten(), nn.Linear(side * side * cin, 10)]
        return _Net(nn.Sequential(*mods), flatten_input=False)


MODELS = {
    "digits-mlp": ModelSpec("digits-mlp", "mlp", (256, 256)),
    "digits-cnn": ModelSpec("digits-cnn", "cnn", (16, 32)),
}


def _Net(seq, flatten_input: bool):
    import torch.nn as nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = seq

        def forward(self, x):
            return self.net(x.flatten(1) if flatten_input else x)

    return Net()


@lru_cache(maxsize=1)
def digits_split():
    """(x_train, y_train, x_test, y_test) tensors; pixels scaled to [0, 1], images 1x8x8."""
    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    data = load_digits()
    order = np.random.default_rng(SEED).permutation(len(data.target))
    x = torch.tensor(data.images[order] / 16.0, dtype=torch.float32).unsqueeze(1)
    y = torch.tensor(data.target[order], dtype=torch.long)
    n_test = int(len(y) * TEST_FRACTION)
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]


def _cache_path(spec: ModelSpec) -> Path:
    import torch

    key = hashlib.sha256(f"{spec}|{SEED}|{EPOCHS}|{TEST_FRACTION}|{torch.__version__}".encode()).hexdigest()[:12]
    return Path(user_cache_dir("tuneforge")) / "quant-models" / f"{spec.name}-{key}.pt"


def _train(spec: ModelSpec):
    import torch

    torch.manual_seed(SEED)
    model = spec.build()
    x, y, _, _ = digits_split()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(SEED)
    for _ in range(EPOCHS):
        for idx in torch.randperm(len(y), generator=generator).split(128):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


@lru_cache(maxsize=4)
def trained_model(name: str):
    """The trained float model, from the disk cache when it is there."""
    import torch

    spec = MODELS[name]
    path = _cache_path(spec)
    if path.is_file():
        model = spec.build()
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.eval()
    with torch.random.fork_rng():
        model = _train(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(path)  # atomic: concurrent workers never read half a file
    return model


def accuracy(model) -> float:
    import torch

    _, _, x, y = digits_split()
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())
