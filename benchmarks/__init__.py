"""The performance suite: a registry of workloads, each run on autograd_core and (when installed) PyTorch.

A workload is a setup function taking the library module (`autograd_core` or `torch`, which share
an API) and a dict of NumPy arrays, and returning a zero-argument `step` to time. Register it in a
module of this package with `@workload(...)`; `python -m benchmarks` imports every module here, so a
new family of workloads is one new file:

    @workload("tiny_ops", target=0.5, data=lambda rng: {"w": rng.standard_normal((16, 16), dtype=np.float32)})
    def tiny_ops(lib, data):
        w = lib.tensor(data["w"], requires_grad=True)
        def step(): ...
        return step
"""
import importlib
import pkgutil
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass
class Workload:
    """One benchmark: how to make its data (seeded NumPy arrays) and a step for a given library."""
    name: str
    setup: Callable          # setup(lib, data) -> step()
    data: Callable           # data(rng) -> dict of NumPy arrays, shared by both libraries
    target: Optional[float]  # the ours/PyTorch time ratio we aim to stay at or below
    family: str
    description: str
    target_s: Optional[float] = None  # an absolute goal in seconds, for a workload with no PyTorch side


WORKLOADS = {}


def workload(name, *, data, target=None, target_s=None, description=None):
    """Register setup(lib, data) -> step as the workload `name` (target: ours/PyTorch ratio goal;
    target_s: an absolute time goal in seconds for a workload that has no PyTorch counterpart)."""
    def deco(setup):
        if name in WORKLOADS:
            raise ValueError(f"benchmarks: workload {name!r} registered twice")
        doc = description or ((setup.__doc__ or "").strip().splitlines() or [""])[0]
        WORKLOADS[name] = Workload(name, setup, data, target, setup.__module__.rsplit(".", 1)[-1], doc, target_s)
        return setup
    return deco


def load_all():
    """Import every workload module in this package (so each registers its workloads)."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")
    return WORKLOADS
