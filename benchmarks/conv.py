"""Convolution workloads: one Conv2d layer forward + backward, and one training step of the MNIST CNN."""
import numpy as np

from . import workload
from .nn import _stack


def _conv_layer_data(rng):
    return {"x": rng.standard_normal((32, 64, 32, 32), dtype=np.float32),
            "w": rng.standard_normal((64, 64, 3, 3), dtype=np.float32) / np.float32(24.0),
            "b": np.zeros(64, dtype=np.float32)}


@workload("conv_layer", target=1.5, data=_conv_layer_data)
def conv_layer(lib, data):
    """Conv2d(64, 64, 3, padding=1) forward + backward on (32, 64, 32, 32), float32."""
    nn, _, _, _, _ = _stack(lib)
    conv = nn.Conv2d(64, 64, 3, padding=1)
    with lib.no_grad():
        conv.weight.copy_(lib.tensor(data["w"]))
        conv.bias.copy_(lib.tensor(data["b"]))
    x = lib.tensor(data["x"], requires_grad=True)

    def step():
        conv.weight.grad = conv.bias.grad = x.grad = None
        conv(x).sum().backward()
    return step


def _cnn_data(rng, n=64):
    return {"x": rng.random((n, 1, 28, 28), dtype=np.float32), "y": rng.integers(0, 10, n).astype(np.int64)}


@workload("cnn", target=1.0, data=_cnn_data)
def cnn(lib, data):
    """The MNIST CNN (conv 1->16->32, 5x5 pad 2, ReLU, 2x2 max-pool; fc 1568-128-10), batch 64, Adam: one step."""
    nn, F, optim, _, _ = _stack(lib)
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(1568, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x, y = lib.tensor(data["x"]), lib.tensor(data["y"])

    def step():
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step
