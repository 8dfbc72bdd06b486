"""Drawing workloads: the DOT source of a large recorded graph (ours only; PyTorch has no counterpart)."""
import numpy as np

from . import workload


@workload("viz_10k", data=lambda rng: {"x": rng.standard_normal((4,), dtype=np.float32)}, target_s=0.5,
          description="draw_graph(root).source for a 10,000-op chain recorded under ag.viz.record(), after backward")
def viz_10k(lib, data):
    """draw_graph(root).source of a 10,000-op chain with values and gradients on every node."""
    if not hasattr(lib, "viz"):
        return None  # no PyTorch side: timed against an absolute target instead
    x = lib.tensor(data["x"], requires_grad=True)
    with lib.viz.record():
        y = x
        for i in range(9_999):
            y = y * 1.0001 if i % 2 else y + 0.001
        y = y.sum()
    y.backward()

    def step():
        return lib.viz.draw_graph(y).source
    return step

