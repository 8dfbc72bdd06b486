"""Module and Parameter: the base class of every layer (PyTorch's torch.nn.Module) and its trainable tensors."""
import itertools
from collections import OrderedDict, namedtuple

import numpy as np

import autograd_core as ag
from autograd_core import dtypes as _dt
from autograd_core import trace as _trace
from autograd_core.tensor import Tensor, _check_requires_grad, as_array

_trace_state = _trace.state


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable when assigned as its attribute.

    Parameter(data, requires_grad=True): given a Tensor, shares its array (no copy); always a leaf.
    """

    def __init__(self, data=None, requires_grad=True):
        if data is None:
            arr = np.empty((0,), dtype=_dt.get_default_dtype())
        else:
            arr = as_array(data, copy=False)
        self._data = arr
        self._vc = data._vc if isinstance(data, Tensor) else [0]
        if requires_grad:
            _check_requires_grad(arr, "Parameter")
            self._requires_grad = True

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class RemovableHandle:
    """Returned by the register_*_hook methods; `.remove()` takes the hook off (also a context manager)."""

    _ids = itertools.count()

    def __init__(self, hooks_dict, extra_dicts=()):
        self._dicts = (hooks_dict,) + tuple(extra_dicts)
        self.id = next(RemovableHandle._ids)

    def remove(self):
        """Remove the hook (a second call does nothing)."""
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What load_state_dict(strict=False) returns: keys the model lacked, and keys it did not expect."""

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


class _HookIdentity(ag.Function):
    """Identity on a group of tensors whose backward hands the arriving gradients to a callback.

    Used by full backward hooks: the module's inputs and outputs pass through one of these, so the
    gradients w.r.t. them (grad_input, grad_output) are seen, and grad_input can be replaced.
    """

    _callback = None

    @staticmethod
    def forward(ctx, *tensors):
        return tuple(t.detach() for t in tensors)

    @staticmethod
    def backward(ctx, *grads):
        callback = ctx._callback
        if callback is None:
            return grads
        out = callback(grads)
        return grads if out is None else tuple(out)


class _BackwardHookState:
    """One forward call's bookkeeping for register_full_backward_hook (PyTorch's BackwardHook)."""

    def __init__(self, module, hooks):
        self.module = module
        self.hooks = hooks
        self.n_inputs = 0
        self.input_slots = []      # positions of the input tensors that require grad
        self.grad_output = None
        self.input_node = None

    def setup_input(self, args):
        self.n_inputs = len(args)
        self.input_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.tensor_slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not self.input_slots:
            return args
        outs = _HookIdentity.apply(*(args[i] for i in self.input_slots))
        outs[0].grad_fn._callback = self._on_input_grads
        args = list(args)
        for i, o in zip(self.input_slots, outs):
            args[i] = o
        return tuple(args)

    def setup_output(self, out):
        single = isinstance(out, Tensor)
        items = (out,) if single else tuple(out) if isinstance(out, (tuple, list)) else None
        if items is None:
            return out
        slots = [i for i, o in enumerate(items) if isinstance(o, Tensor) and o.requires_grad]
        if not slots:
            return out
        wrapped = _HookIdentity.apply(*(items[i] for i in slots))
        wrapped[0].grad_fn._callback = self._on_output_grads
        self.output_shapes = [(items[i].shape, items[i].dtype) for i in range(len(items))]
        self.output_slots = slots
        items = list(items)
        for i, w in zip(slots, wrapped):
            items[i] = w
        if single:
            return items[0]
        return type(out)(items) if isinstance(out, list) else tuple(items)

    def _on_output_grads(self, grads):
        full = [None] * len(self.output_shapes)
        for i, g in zip(self.output_slots, grads):
            full[i] = g
        self.grad_output = tuple(full)
        if not self.input_slots:
            # why: no input needs a gradient, so no input node will run: call the hooks now, as PyTorch does
            self._call_hooks(tuple(None for _ in self.tensor_slots))
        return None

    def _on_input_grads(self, grads):
        grad_input = [None] * self.n_inputs
        for i, g in zip(self.input_slots, grads):
            grad_input[i] = g
        # PyTorch's grad_input has one entry per tensor argument
        grad_input = tuple(grad_input[i] for i in self.tensor_slots)
        new = self._call_hooks(grad_input)
        if new is None:
            return None
        by_pos = dict(zip(self.tensor_slots, new))
        return tuple(by_pos[i] for i in self.input_slots)

    def _call_hooks(self, grad_input):
        grad_output = self.grad_output if self.grad_output is not None else ()
        replaced = None
        for hook in list(self.hooks):
            r = hook(self.module, grad_input, grad_output)
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(grad_input):
                    raise RuntimeError(f"backward hook of {type(self.module).__name__} returned {len(r)} "
                                       f"gradients, expected {len(grad_input)} (one per tensor input)")
                grad_input = replaced = r
        return replaced


class Module:
    """Base class for all layers and models: subclass it, assign layers and Parameters in __init__, write forward.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 256)   # registered as a child module
                self.fc2 = nn.Linear(256, 10)
            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    training: bool
    _label = None  # this module's attribute name in its parent; labels its ops in ag.viz drawings

    def __init__(self, *args, **kwargs):
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments: Module.__init__ takes none")
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = {}
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = {}
        d["_backward_hooks"] = OrderedDict()

    # ---- forward and calling -----------------------------------------------------------------
    def forward(self, *args, **kwargs):
        """Compute the module's output; every subclass defines it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (d["_forward_hooks"] or d["_forward_pre_hooks"] or d["_backward_hooks"] or _trace_state.active):
            return self.forward(*args, **kwargs)
        return self._call_impl(args, kwargs)

    def _call_impl(self, args, kwargs):
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                r = hook(self, args, kwargs)
                if r is not None:
                    if not (isinstance(r, tuple) and len(r) == 2):
                        raise RuntimeError("forward pre-hook with kwargs must return None or a tuple (args, kwargs), "
                                           f"got {type(r).__name__}")
                    args, kwargs = r
            else:
                r = hook(self, args)
                if r is not None:
                    args = r if isinstance(r, tuple) else (r,)
        bw = None
        if self._backward_hooks and ag.is_grad_enabled():
            bw = _BackwardHookState(self, list(self._backward_hooks.values()))
            args = bw.setup_input(args)
        if _trace_state.active and (_trace_state.sites or _trace_state.keep_outputs):
            label = self._label or type(self).__name__
            with _trace.module_scope(label):
                out = self.forward(*args, **kwargs)
        else:
            out = self.forward(*args, **kwargs)
        for hid, hook in list(self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs:
                r = hook(self, args, kwargs, out)
            else:
                r = hook(self, args, out)
            if r is not None:
                out = r
        if bw is not None:
            out = bw.setup_output(out)
        return out

    # ---- hooks -------------------------------------------------------------------------------
    @staticmethod
    def _add_hook(hooks, hook, prepend, kw_dict=None, with_kwargs=False):
        handle = RemovableHandle(hooks, (kw_dict,) if kw_dict is not None else ())
        hooks[handle.id] = hook
        if with_kwargs:
            kw_dict[handle.id] = True
        if prepend:
            hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args) runs before forward; returning a value replaces args (a non-tuple is wrapped).

        with_kwargs=True: hook(module, args, kwargs) may return (args, kwargs).
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, self._forward_pre_hooks_with_kwargs,
                              with_kwargs)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """hook(module, args, output) runs after forward; returning a value replaces the output.

        with_kwargs=True: hook(module, args, kwargs, output).
        """
        return self._add_hook(self._forward_hooks, hook, prepend, self._forward_hooks_with_kwargs, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """hook(module, grad_input, grad_output) runs when the gradients w.r.t. the module's inputs are known.

        grad_input has one entry per tensor positional input (None where it needs no gradient),
        grad_output one per output tensor; returning a tuple replaces grad_input. The inputs and
        outputs pass through identity nodes that see the gradients (as in PyTorch).
        """
        return self._add_hook(self._backward_hooks, hook, prepend)

    # ---- registration ------------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Register `param` (a Parameter, or None) under `name`."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                            f"(nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly (wrap the tensor in nn.Parameter or detach() it)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register a tensor that is state but not a parameter (e.g. running statistics).

        persistent=False keeps it out of state_dict().
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            f"(ag.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Register `module` (a Module, or None) as a child under `name`."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "_modules" not in self.__dict__:
            raise AttributeError("cannot assign module before Module.__init__() call")
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module
        if module is not None and "_label" not in module.__dict__:
            # why: the first name a module is registered under labels it (a shared module keeps it)
            module.__dict__["_label"] = name if not name.isdigit() else f"{name}: {type(module).__name__}"

    register_module = add_module

    @staticmethod
    def _check_name(name, what):
        if not isinstance(name, str):
            raise TypeError(f"{what} name should be a string, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{what} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{what} name can\'t be empty string ""')

    def get_submodule(self, target):
        """The submodule at dotted path `target` ('' is self)."""
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target):
        """The parameter at dotted path `target`."""
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"{mod._get_name()} has no parameter `{name}`")
        return mod._parameters[name]

    # ---- attribute protocol ------------------------------------------------------------------
    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __setattr__(self, name, value):
        d = self.__dict__

        def remove_from(*stores):
            for s in stores:
                if name in s:
                    if isinstance(s, dict):
                        del s[name]
                    else:
                        s.discard(name)

        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            remove_from(d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            params[name] = None
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            remove_from(d, params, self._buffers, self._non_persistent_buffers_set)
            self.add_module(name, value)
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}' "
                                f"(nn.Module or None expected)")
            modules[name] = None
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                f"(ag.Tensor or None expected)")
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del self._parameters[name]
        elif name in d.get("_buffers", ()):
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in d.get("_modules", ()):
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = (dir(self.__class__) + list(self.__dict__) + list(self._parameters) + list(self._modules)
                + list(self._buffers))
        return sorted(k for k in set(keys) if not k[0].isdigit())

    def __setstate__(self, state):
        self.__dict__.update(state)

    # ---- iteration over parameters, buffers and modules --------------------------------------
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None:
                    continue
                if remove_duplicate:
                    if id(v) in memo:
                        continue
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k, v)

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, Parameter) pairs, e.g. ('fc1.weight', ...); a parameter shared by two modules comes once."""
        yield from self._named_members(lambda m: m._parameters.items(), prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The Parameters of this module (and its submodules when recurse), each once."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, buffer) pairs."""
        yield from self._named_members(lambda m: m._buffers.items(), prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers of this module (and its submodules when recurse)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_children(self):
        """(name, module) for each direct child, each module once."""
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def children(self):
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(path, module) for this module and every descendant, depth first; '' is this module."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """This module and every descendant, each once."""
        for _, m in self.named_modules():
            yield m

    # ---- modes and gradients -----------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch norm updating its statistics) here and in every child."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for m in self.children():
            m.train(mode)
        return self

    def eval(self):
        """Set evaluation mode: same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad on every parameter (freeze with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the parameters' gradients: to None (default) or to zeros in place."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                g = p.grad
                if g.grad_fn is not None:
                    g.detach_()
                with ag.no_grad():
                    g.zero_()

    def apply(self, fn):
        """Call fn on every submodule (children first) and then on self; returns self (used for init)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- dtype / device ----------------------------------------------------------------------
    def _cast_(self, dtype):
        for t in itertools.chain(self.parameters(), self.buffers()):
            if t.dtype.kind != "f" or t.dtype == dtype:
                continue
            t._data = t._data.astype(dtype)
            t._vc[0] += 1
            if t._grad is not None:
                t._grad = Tensor._make(t._grad._data.astype(dtype))
        return self

    def to(self, *args, **kwargs):
        """to(dtype), to('cpu'), to(device, dtype), to(tensor): cast floating parameters and buffers in place.

        The Parameter objects stay the same (an optimizer built before keeps working).
        """
        dtype, _ = _dt.parse_to_args(args, kwargs, "Module.to")
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast_(dtype)

    def float(self):
        """Cast floating parameters and buffers to float32."""
        return self._cast_(np.dtype(np.float32))

    def double(self):
        """Cast floating parameters and buffers to float64."""
        return self._cast_(np.dtype(np.float64))

    def half(self):
        """Cast floating parameters and buffers to float16."""
        return self._cast_(np.dtype(np.float16))

    def type(self, dst_type):
        """Cast all parameters and buffers to dst_type."""
        return self.to(dst_type)

    def cpu(self):
        """A no-op (everything lives on the CPU)."""
        return self

    # ---- state_dict --------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()

    def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
        """An OrderedDict from PyTorch-style names ('fc1.weight', 'bn.running_mean') to detached tensors.

        Holds parameters and persistent buffers; the tensors share storage with the model (save them
        with ag.save, which copies).
        """
        if args:  # PyTorch's old positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            if len(args) > 1:
                prefix = args[1]
            if len(args) > 2:
                keep_vars = args[2]
        if destination is None:
            destination = OrderedDict()
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        persistent = {k: v for k, v in self._buffers.items() if k not in self._non_persistent_buffers_set}
        local = itertools.chain(self._parameters.items(), persistent.items())
        for name, param in local:
            if param is None:
                continue
            key = prefix + name
            if key not in state_dict:
                missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, (Tensor, np.ndarray, np.generic, int, float)):
                error_msgs.append(f'While copying the parameter named "{key}", expected a Tensor or array from '
                                  f"checkpoint but received {type(value).__name__}")
                continue
            arr = value._data if isinstance(value, Tensor) else np.asarray(value)
            if arr.shape != param.shape:
                error_msgs.append(f"size mismatch for {key}: copying a param with shape {arr.shape} from "
                                  f"checkpoint, the shape in current model is {param.shape}.")
                continue
            param._data[...] = arr
            param._vc[0] += 1

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy the values of a state_dict into this model's parameters and buffers, in place.

        strict=True: any missing key, unexpected key or wrong shape raises a RuntimeError listing them all.
        strict=False: returns (missing_keys, unexpected_keys); a wrong shape is still an error.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict).__name__}.")
        missing, unexpected, errors = [], [], []
        expected = set()
        for prefix, m in self.named_modules(remove_duplicate=False):
            p = prefix + "." if prefix else ""
            for name, t in m._parameters.items():
                if t is not None:
                    expected.add(p + name)
            for name, t in m._buffers.items():
                if t is not None and name not in m._non_persistent_buffers_set:
                    expected.add(p + name)
            m._load_from_state_dict(state_dict, p, {}, strict, missing, unexpected, errors)
        unexpected.extend(k for k in state_dict if k not in expected)
        missing = list(dict.fromkeys(missing))
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t" + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    # ---- printing ----------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside this module's parentheses in repr (its constructor arguments); override it."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({key}): " + _addindent(repr(m), 2) for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        s = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                s += extra_lines[0]
            else:
                s += "\n  " + "\n  ".join(lines) + "\n"
        return s + ")"
