"""Engine workloads: per-op overhead on tiny tensors, and a BLAS-bound matmul chain."""
import numpy as np

from . import workload


@workload("tiny_ops", target=0.5,
          data=lambda rng: {"w": rng.standard_normal((16, 16), dtype=np.float32)})
def tiny_ops(lib, data):
    """50 x (tanh(x * 1.01 + 0.1) - x * 0.5) on (16, 16), then backward: per-op overhead."""
    w = lib.tensor(data["w"], requires_grad=True)

    def step():
        w.grad = None
        x = w
        for _ in range(50):
            x = lib.tanh(x * 1.01 + 0.1) - x * 0.5
        x.sum().backward()
    return step


def _chain_data(rng):
    # why: variance-preserving scale for relu layers, so activations neither vanish nor blow up
    ws = [(rng.standard_normal((512, 512), dtype=np.float32) * np.float32(np.sqrt(2 / 512))) for _ in range(10)]
    return {"x": rng.standard_normal((128, 512), dtype=np.float32), **{f"w{i}": w for i, w in enumerate(ws)}}


@workload("matmul_chain", target=1.0, data=_chain_data)
def matmul_chain(lib, data):
    """x (128, 512) through 10 x relu(x @ W), W (512, 512) float32, then backward: BLAS-bound."""
    x0 = lib.tensor(data["x"])
    ws = [lib.tensor(data[f"w{i}"], requires_grad=True) for i in range(10)]

    def step():
        for w in ws:
            w.grad = None
        x = x0
        for w in ws:
            x = lib.relu(x @ w)
        x.sum().backward()
    return step
