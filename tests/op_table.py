"""The op table's machinery: a Row per op, standard shape sets, and input generation."""
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import importlib
import inspect
import pkgutil

import numpy as np

import autograd_core as ag
import autograd_core.ops as ops_pkg
from autograd_core.function import Function

# Shape sets: always the 0-d case, size-1 dims and broadcast pairs of different rank.
UNARY = [((),), ((1,),), ((3,),), ((2, 3),), ((2, 1, 3),)]
BINARY = [((), ()), ((3,), ()), ((), (3,)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((1,), (2, 3)), ((2, 1, 3), (4, 1))]
TERNARY = [((), (), ()), ((2, 3), (3,), ()), ((2, 1), (1, 3), (2, 3))]
MATRIX = [((2, 3),), ((1, 4),), ((3, 1, 2),), ((2, 3, 4),)]  # at least 2-D, for ops that need a dim


def one(*shapes):
    """Shape sets for a one-input op: one(s1, s2) == [(s1,), (s2,)]."""
    return [(s,) for s in shapes]


@dataclass
class Row:
    """One op of the table: how to call it, its NumPy reference, shapes and input domains."""
    name: str
    fn: Callable                      # (*Tensors) -> Tensor (or tuple of Tensors), calls the op under test
    ref: Optional[Callable]           # (*float64 arrays) -> array (or tuple), the NumPy reference
    shapes: Sequence[tuple]           # each entry: a tuple of input shapes
    domain: Sequence[tuple] = ((-2.0, 2.0),)   # (low, high) per input (last entry repeats)
    avoid: Sequence = (None,)         # per input: points to stay 0.1 away from (kinks), or None
    grad: bool = True                 # check first derivatives with gradcheck
    gradgrad: bool = True             # check second derivatives with gradgradcheck
    distinct: bool = False            # keep inputs' values apart (max/min/sort ties)
    atol: float = 1e-5
    rtol: float = 1e-3
    eps: float = 1e-6                 # finite-difference step (bigger for rows that round to float32)
    keeps_dtype: bool = True          # float32 in -> float32 out (False for dtype casts)
    extra: dict = field(default_factory=dict)

    def inputs(self, shapes, seed=0, dtype=np.float64):
        """Seeded float inputs in the row's domain, as Tensors that require grad."""
        rng = np.random.default_rng(seed)
        out = []
        for i, shape in enumerate(shapes):
            low, high = self.domain[min(i, len(self.domain) - 1)]
            a = rng.uniform(low, high, size=shape)
            if self.distinct:
                n = a.size
                a = (rng.permutation(n).reshape(shape) * (high - low) / max(n, 1) + low + rng.uniform(0, 0.05, shape)
                     if n else a)
            pts = self.avoid[min(i, len(self.avoid) - 1)]
            if pts is not None:
                for p in np.atleast_1d(pts):
                    close = np.abs(a - p) < 0.1
                    a = np.where(close, p + 0.1 * np.sign(a - p + 1e-12) + 0.1 * np.sign(a - p + 1e-12), a)
            out.append(ag.tensor(np.asarray(a, dtype=dtype), requires_grad=True))
        return out


def case_id(row, shapes):
    """A readable test id: name[shape, shape]."""
    return f"{row.name}{list(shapes)}"


def all_cases(rows):
    """(row, shapes) pairs for pytest parametrisation."""
    return [(r, s) for r in rows for s in r.shapes]


def graph_functions(outputs):
    """The Function classes on the graph that made outputs (walked iteratively)."""
    outs = outputs if isinstance(outputs, (tuple, list)) else [outputs]
    seen, stack, kinds = set(), [o.grad_fn for o in outs if isinstance(o, ag.Tensor) and o.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        kinds.add(type(node))
        for nxt, _ in getattr(node, "next_functions", ()):
            if nxt is not None and isinstance(nxt, ag.Function):
                stack.append(nxt)
    return kinds


def library_functions():
    """Every public Function subclass defined in autograd_core.ops (private bases only share code)."""
    found = set()
    for info in pkgutil.iter_modules(ops_pkg.__path__):
        mod = importlib.import_module(f"autograd_core.ops.{info.name}")
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if (issubclass(obj, Function) and obj is not Function and obj.__module__ == mod.__name__
                    and not obj.__name__.startswith("_")):
                found.add(obj)
    return found
