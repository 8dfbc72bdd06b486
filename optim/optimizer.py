"""Optimizer: the base of every optimizer (parameter groups, per-parameter state, state_dict)."""
import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor


class _RequiredParameter:
    """Marks a group option that has no default (it must be given per group or to the constructor)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _state_tensor(arr):
    """Wrap an array as a state tensor (no grad, owns its storage)."""
    return Tensor._make(arr)


def _zeros_like(p):
    return Tensor._make(np.zeros_like(p._data))


def _check_lr(lr):
    if not isinstance(lr, (int, float)) or isinstance(lr, bool):
        raise TypeError(f"Invalid learning rate: expected a Python number, got {type(lr).__name__}")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_eps(eps):
    if not 0.0 <= eps:
        raise ValueError(f"Invalid epsilon value: {eps}")


def _check_betas(betas):
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: expected two values (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")


def _check_weight_decay(weight_decay):
    if not 0.0 <= weight_decay:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


class _Scratch:
    """Reusable work arrays: one flat buffer per dtype per thread, viewed at each tensor's shape.

    why: an update needs a temporary or two; allocating them afresh for every tensor on every step
    costs page faults on large tensors, and one buffer per parameter would add a full copy of the model.
    """

    def __init__(self):
        self._local = threading.local()

    def get(self, like, k=0):
        bufs = self._local.__dict__
        key = (like.dtype, k)
        buf = bufs.get(key)
        if buf is None or buf.size < like.size:
            buf = bufs[key] = np.empty(max(like.size, 1), like.dtype)
        return buf[:like.size].reshape(like.shape)


_SCRATCH = _Scratch()
_POOL = None
_POOL_LOCK = threading.Lock()
# why: below this many elements in one step, handing tensors to threads costs more than it saves
_PARALLEL_MIN_NUMEL = 1 << 20


def _pool():
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8), thread_name_prefix="optim")
    return _POOL


def _foreach(fn, items, foreach, numel):
    """Call fn(item) for every item: in a thread pool when `foreach` allows it and the work (numel
    elements in all) is large.

    NumPy's ufuncs release the GIL, so separate tensors update in parallel; each element's update is
    the same computation either way, so results are bit-identical to the sequential loop.
    """
    # why numel first: os.cpu_count() is a system call (~10 us), otherwise paid on every small step
    if (foreach is not False and len(items) > 1 and numel >= _PARALLEL_MIN_NUMEL
            and (os.cpu_count() or 1) > 1):
        for _ in _pool().map(fn, items):
            pass
    else:
        for it in items:
            fn(it)


class Optimizer:
    """Base class of all optimizers, as torch.optim.Optimizer.

    params: an iterable of tensors (any tensor that is a leaf: model parameters, an input image ...)
    or of dicts, each a parameter group {'params': [...], option: value, ...} whose options override
    `defaults`. `state[p]` holds the per-parameter buffers (keyed by the tensor itself).
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(f"params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            f"but got a Tensor of shape {params.shape} (wrap it in a list: [t])")
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self):
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ---- groups ---------------------------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group {'params': tensors, option: value ...}; missing options come from the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"add_param_group: param_group must be a dict, got {type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError("add_param_group: the group has no 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering of "
                            "tensors in sets will change between runs. Please use a list instead.")
        else:
            params = list(params)
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (shape {p.shape}, made by {p.grad_fn.name()}); "
                                 f"optimize the leaf it was computed from, or use t.detach().requires_grad_()")
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"parameter group didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error", UserWarning, stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Validate a group's options (subclasses raise PyTorch's errors here)."""

    # ---- gradients ------------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors: to None (default), or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    g._data.fill(0)
                    g._vc[0] += 1

    # ---- stepping -------------------------------------------------------------------------
    def step(self, closure=None):
        """One update of every parameter that has a gradient; closure (optional) recomputes the loss."""
        loss = None
        if closure is not None:
            with ag.enable_grad():
                loss = closure()
        for group in self.param_groups:
            items = []
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad._data.dtype != p._data.dtype:
                    raise RuntimeError(f"{type(self).__name__}.step: a parameter of dtype {p.dtype} has a gradient "
                                       f"of dtype {p.grad.dtype}")
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {}
                if not state:
                    self._init_state(p, state, group)
                items.append((p, state))
            if items:
                self._update_group(group, items)
                for p, _ in items:
                    p._vc[0] += 1  # why: the parameters changed in place, as any in-place write
        return loss

    def _init_state(self, p, state, group):
        """Allocate p's state buffers (called once, at p's first step)."""

    def _update_group(self, group, items):
        """Update every (param, state) pair of one group in place."""
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    # ---- saving ---------------------------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {name: value}}, 'param_groups': [{option: value, 'params': [indices]}]}.

        Parameters are numbered in the order of the groups, as PyTorch does; state values are the
        optimizer's own tensors (not copies), ready for ag.save.
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for p in group["params"]:
                if id(p) not in index:
                    index[id(p)] = len(index)
                packed["params"].append(index[id(p)])
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = st
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore what state_dict() returned (copied, cast to each parameter's dtype), to resume a run exactly."""
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError("load_state_dict: expected a dict with 'state' and 'param_groups', as state_dict() returns")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has a different number of parameter groups "
                             f"({len(saved_groups)}) than the optimizer ({len(self.param_groups)})")
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"loaded state dict contains a parameter group that doesn't match the size of "
                                 f"optimizer's group: group {i} has {len(s['params'])} saved parameters, "
                                 f"the optimizer {len(g['params'])}")
        id_map = {}
        for g, s in zip(self.param_groups, saved_groups):
            for idx, p in zip(s["params"], g["params"]):
                id_map[idx] = p
        new_state = {}
        for idx, st in state_dict["state"].items():
            idx = int(idx)
            if idx not in id_map:
                raise ValueError(f"load_state_dict: state for parameter index {idx}, which no group holds")
            p = id_map[idx]
            new_state[p] = {k: self._load_value(p, k, v) for k, v in st.items()}
        new_groups = []
        for g, s in zip(self.param_groups, saved_groups):
            ng = {k: v for k, v in s.items() if k != "params"}
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def _load_value(self, p, key, value):
        if isinstance(value, Tensor):
            arr = value._data
            # why: as PyTorch, floating state follows the parameter's dtype, except the step count
            if key != "step" and arr.dtype.kind == "f":
                arr = arr.astype(p._data.dtype, copy=True)
            else:
                arr = arr.copy()
            return Tensor._make(arr)
        if isinstance(value, np.ndarray):
            return self._load_value(p, key, Tensor._make(value))
        if isinstance(value, list):
            return [self._load_value(p, key, v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._load_value(p, key, v) for v in value)
        return value


def _numel(items):
    """Elements in all the parameters of a list of (param, state) pairs."""
    return sum(p._data.size for p, _ in items)


def _grad(p, maximize):
    """The gradient array to descend along: p.grad itself, or a negated copy when maximizing."""
    g = p.grad._data
    return np.negative(g) if maximize else g


def _with_weight_decay(g, w, weight_decay, owned):
    """g + weight_decay * w (PyTorch's coupled L2 penalty), in place when g is already a private copy."""
    if not weight_decay:
        return g
    if owned:
        g += weight_decay * w
        return g
    out = np.multiply(w, weight_decay)
    out += g
    return out


def _step_value(state):
    """Increment the 0-d float32 step tensor in place and return it as a Python float."""
    st = state["step"]._data
    st += 1
    return float(st)
