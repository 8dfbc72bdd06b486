"""Optimizer workloads: one optimizer step over a model-sized set of parameters (memory-bound)."""
import importlib
import os
import sys

import numpy as np

from . import workload

_N_TENSORS, _NUMEL = 40, 250_000  # 10 M parameters in all


def _adam_data(rng):
    return {**{f"p{i}": rng.standard_normal(_NUMEL, dtype=np.float32) for i in range(_N_TENSORS)},
            **{f"g{i}": rng.standard_normal(_NUMEL, dtype=np.float32) for i in range(_N_TENSORS)}}


def _optim_module(lib):
    """torch.optim for torch; this project's optim package for autograd_core."""
    if hasattr(lib, "optim"):
        return lib.optim
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("optim")


@workload("adam_step", target=1.0, data=_adam_data)
def adam_step(lib, data):
    """Adam.step() over 40 float32 tensors of 250,000 (10 M parameters), gradients already set."""
    params = [lib.tensor(data[f"p{i}"], requires_grad=True) for i in range(_N_TENSORS)]
    for i, p in enumerate(params):
        p.grad = lib.tensor(data[f"g{i}"])
    opt = _optim_module(lib).Adam(params, lr=1e-3)

    def step():
        opt.step()
    return step
