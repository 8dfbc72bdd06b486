"""nn workloads: one MLP training step, and one epoch of the MNIST example's training loop."""
import numpy as np

from . import workload


def _stack(lib):
    """(nn, F, optim, DataLoader, TensorDataset) for autograd_core or torch: the two share an API."""
    if lib.__name__ == "torch":
        import torch.nn as nn
        import torch.nn.functional as F
        import torch.optim as optim
        from torch.utils.data import DataLoader, TensorDataset
    else:
        import nn
        import nn.functional as F
        import optim
        from nn.data import DataLoader, TensorDataset
    return nn, F, optim, DataLoader, TensorDataset


def _mlp(nn, lib, data):
    """784-256-128-10 ReLU with the weights from data (both libraries start identical)."""
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))
    with lib.no_grad():
        for i, layer in enumerate([model[0], model[2], model[4]]):
            layer.weight.copy_(lib.tensor(data[f"w{i}"]))
            layer.bias.zero_()
    return model


def _mlp_data(rng, n=128):
    sizes = [(256, 784), (128, 256), (10, 128)]
    out = {f"w{i}": (rng.standard_normal(s, dtype=np.float32) / np.float32(np.sqrt(s[1]))) for i, s in enumerate(sizes)}
    out["x"] = rng.random((n, 784), dtype=np.float32)
    out["y"] = rng.integers(0, 10, n).astype(np.int64)
    return out


@workload("mlp", target=1.0, data=_mlp_data)
def mlp(lib, data):
    """784-256-128-10 ReLU, batch 128, cross-entropy, Adam: one training step."""
    nn, F, optim, _, _ = _stack(lib)
    model = _mlp(nn, lib, data)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = lib.tensor(data["x"]), lib.tensor(data["y"])

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


@workload("mnist_epoch", target=1.0, data=lambda rng: _mlp_data(rng, n=5000))
def mnist_epoch(lib, data):
    """One epoch of the MNIST example's loop: 5,000 images, DataLoader batch 64 shuffled, Adam."""
    nn, F, optim, DataLoader, TensorDataset = _stack(lib)
    model = _mlp(nn, lib, data)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(lib.tensor(data["x"]), lib.tensor(data["y"])), batch_size=64, shuffle=True)

    def step():
        for xb, yb in loader:
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return step
