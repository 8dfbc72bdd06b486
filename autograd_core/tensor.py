"""Tensor: an array, its gradient, and the node (grad_fn) that made it; operators delegate to ops."""
import weakref

from . import dtypes as _dt
from . import graph as _graph
from .backend import xp
from .dispatch import FUNCTIONS, UFUNCS
from .function import AccumulateGrad, Function
from .grad_mode import _state as _grad_state
from .ops import elementwise as _ew
from .ops import indexing as _ix
from .ops import linalg as _la
from .ops import movement as _mv
from .ops import reduce as _rd

_new = object.__new__
# why: bound once, so each operator call skips the classmethod binding (per-op hot path)
_abs_apply = _ew.Abs._apply1
_add_apply = _ew.Add._apply2
_ceil_apply = _ew.Ceil._apply1
_cos_apply = _ew.Cos._apply1
_div_apply = _ew.Div._apply2
_erf_apply = _ew.Erf._apply1
_exp_apply = _ew.Exp._apply1
_floor_apply = _ew.Floor._apply1
_floordivide_apply = _ew.FloorDivide._apply2
_log_apply = _ew.Log._apply1
_maximum_apply = _ew.Maximum._apply2
_minimum_apply = _ew.Minimum._apply2
_mul_apply = _ew.Mul._apply2
_neg_apply = _ew.Neg._apply1
_pow_apply = _ew.Pow._apply2
_reciprocal_apply = _ew.Reciprocal._apply1
_relu_apply = _ew.Relu._apply1
_round_apply = _ew.Round._apply2
_rsqrt_apply = _ew.Rsqrt._apply1
_sigmoid_apply = _ew.Sigmoid._apply1
_sign_apply = _ew.Sign._apply1
_sin_apply = _ew.Sin._apply1
_sqrt_apply = _ew.Sqrt._apply1
_square_apply = _ew.Square._apply1
_sub_apply = _ew.Sub._apply2
_tan_apply = _ew.Tan._apply1
_tanh_apply = _ew.Tanh._apply1
_where_apply = _ew.Where.apply


def _data(x):
    return x._data if isinstance(x, Tensor) else x


def as_array(data, dtype=None, copy=True):
    """Convert user data (Tensor, array, scalar, nested list) to an array with PyTorch's dtype rules."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, xp.ndarray):
        arr = data
    elif isinstance(data, xp.generic):
        # why: a NumPy scalar keeps its dtype, like a NumPy array (torch.tensor(np.float64(1)) is float64)
        arr = xp.asarray(data)
        copy = False
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [_data(d) for d in data]
        arr = xp.asarray(data)
        # why: Python floats become the default dtype (float32), not NumPy's float64
        if dtype is None and arr.dtype == xp.float64:
            arr = arr.astype(_dt._Defaults.dtype)
        elif dtype is None and arr.dtype.kind == "i" and arr.dtype != xp.int64:
            arr = arr.astype(xp.int64)
        copy = False
    if arr.dtype == object:
        raise TypeError(f"tensor: could not convert data of type {type(data).__name__} to a numeric array")
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
        if arr.dtype != dtype:
            return arr.astype(dtype)
    return arr.copy() if copy else arr


def _check_requires_grad(arr, what):
    if arr.dtype.kind not in "fc":
        raise RuntimeError(f"{what}: only Tensors of floating point dtype can require gradients "
                           f"(got dtype {arr.dtype}); convert with .float() first")


class _RemovableHandle:
    """Returned by register_hook; `.remove()` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks = weakref.ref(hooks) if hasattr(hooks, "__weakref__") else (lambda: hooks)
        self._hook = hook

    def remove(self):
        """Remove the hook (once)."""
        hooks = self._hooks()
        if hooks is not None and self._hook in hooks:
            hooks.remove(self._hook)


class _HookList(list):
    """A list that handles can refer to weakly."""


class Tensor:
    """A multi-dimensional array that records the operations done on it for automatic differentiation."""

    # why: class-level defaults keep creating a tensor down to two attribute writes (hot path)
    grad_fn = None
    _requires_grad = False
    _output_nr = 0
    _grad = None
    _hooks = None
    _acc_ref = None
    _retains_grad = False
    _name = None
    __array_priority__ = 1000
    # why: a leaf tensor is its own node in the graph; these make it look like one to graph.py
    _edges = ()
    _n_outputs = 1
    _pre_hooks = None
    _stack = None
    _simple = True
    _seq = None  # a leaf has no creation number: the plain reverse pass accumulates leaves last
    _fast = None  # a leaf is never run inline by the plain reverse pass (see graph._plain_pass)
    _base = None  # for a view: the tensor whose storage it shares

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        _dt.check_device(device, "tensor")
        arr = as_array(data, dtype, copy=True)
        self._data = arr
        self._vc = [0]
        if requires_grad:
            _check_requires_grad(arr, "tensor")
            self._requires_grad = True

    @staticmethod
    def _make(data, requires_grad=False, grad_fn=None, output_nr=0):
        """Wrap an array without copying (internal fast path)."""
        t = _new(Tensor)
        t._data = data
        t._vc = [0]
        if requires_grad:
            t._requires_grad = True
            t.grad_fn = grad_fn
            t._output_nr = output_nr
        return t

    # ---- attributes ------------------------------------------------------------------------
    @property
    def data(self):
        """A tensor sharing this storage that does not require grad (writes to it change this tensor)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        self._data = as_array(value, copy=False)

    @property
    def shape(self):
        """The shape, as a tuple."""
        return self._data.shape

    @property
    def ndim(self):
        """Number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self):
        """The element dtype (ag.float32, ...)."""
        return self._data.dtype

    @property
    def device(self):
        """Always device('cpu') for now."""
        return _dt.CPU

    @property
    def is_cuda(self):
        """False: no GPU backend yet."""
        return False

    @property
    def is_leaf(self):
        """True for tensors not produced by a recorded op (user-created or requires_grad=False)."""
        return self.grad_fn is None

    @property
    def requires_grad(self):
        """Whether operations on this tensor are recorded for gradients."""
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self.requires_grad_(value)

    @property
    def grad(self):
        """The accumulated gradient (a Tensor) after backward, or None."""
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: assigned grad must be a Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"grad: assigned grad has shape {value.shape} but the tensor has shape {self.shape}")
        self._grad = value

    @property
    def T(self):
        """All dimensions reversed (a 2-D tensor's transpose)."""
        return _mv.permute(self, tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self):
        """The last two dimensions swapped (batched matrix transpose)."""
        if self.ndim < 2:
            raise RuntimeError(f"mT: only supported on matrices or batches of matrices, got shape {self.shape}")
        return _mv.transpose(self, -2, -1)

    @property
    def _version(self):
        """How many in-place writes the storage has had."""
        return self._vc[0]

    @property
    def name(self):
        """An optional label, shown by ag.viz drawings."""
        return self._name

    @name.setter
    def name(self, value):
        self._name = value

    def size(self, dim=None):
        """The shape, or the size of one dimension."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_mv.normalize_dim(dim, self.ndim, "size")]

    def numel(self):
        """Number of elements."""
        return int(self._data.size)

    nelement = numel

    def dim(self):
        """Number of dimensions."""
        return self._data.ndim

    ndimension = dim

    def element_size(self):
        """Bytes per element."""
        return self._data.itemsize

    def is_floating_point(self):
        """True for floating dtypes."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self):
        """Always True here (NumPy handles strides)."""
        return True

    def contiguous(self):
        """No-op: returns self."""
        return self

    def cpu(self):
        """No-op: returns self."""
        return self

    def cuda(self, *args, **kwargs):
        """Refuses: no GPU backend yet."""
        raise RuntimeError("cuda: no GPU backend is available (ag.cuda.is_available() is False)")

    # ---- conversion ------------------------------------------------------------------------
    def numpy(self, force=False):
        """The NumPy array (shares memory); refuses when the tensor requires grad, as PyTorch."""
        if self._requires_grad and not force:
            raise RuntimeError(f"numpy: can't call numpy() on a Tensor that requires grad (shape {self.shape}); "
                               f"use tensor.detach().numpy()")
        return self._data

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements (shape {self.shape}) cannot be "
                               f"converted to a Python scalar")
        return self._data.reshape(()).item()

    def tolist(self):
        """Nested Python lists of the values."""
        return self._data.tolist()

    def __array__(self, dtype=None, copy=None):
        if self._requires_grad:
            raise RuntimeError(f"__array__: can't convert a Tensor that requires grad (shape {self.shape}) to a "
                               f"NumPy array; use tensor.detach().numpy()")
        if dtype is not None and dtype != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = UFUNCS.get(ufunc)
        if method != "__call__" or fn is None or kwargs.get("out") is not None:
            raise TypeError(f"{ufunc.__name__}.{method}: this NumPy ufunc is not supported on Tensors; "
                            f"use the Tensor method or .detach().numpy()")
        kwargs.pop("out", None)
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        fn = FUNCTIONS.get(func)
        if fn is None:
            raise TypeError(f"{func.__name__}: this NumPy function is not supported on Tensors; "
                            f"use the Tensor method or .detach().numpy()")
        return fn(*args, **kwargs)

    def to(self, *args, **kwargs):
        """Convert dtype and/or device: to(dtype), to('cpu'), to(device, dtype), to(other_tensor)."""
        dtype, _ = _dt.parse_to_args(args, kwargs, "to")
        if dtype is None:
            return self
        if dtype == self._data.dtype:
            return self
        return _mv.Cast.apply(self, dtype)

    def astype(self, dtype):
        """NumPy-style spelling of to(dtype)."""
        return self.to(dtype)

    def float(self):
        """Convert to float32."""
        return self.to(_dt.float32)

    def double(self):
        """Convert to float64."""
        return self.to(_dt.float64)

    def half(self):
        """Convert to float16."""
        return self.to(_dt.float16)

    def long(self):
        """Convert to int64."""
        return self.to(_dt.int64)

    def int(self):
        """Convert to int32."""
        return self.to(_dt.int32)

    def bool(self):
        """Convert to bool."""
        return self.to(_dt.bool)

    def type(self, dtype=None):
        """With a dtype: convert to it; without: the type name, e.g. 'ag.FloatTensor'."""
        if dtype is None:
            names = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                     "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor", "uint8": "ByteTensor"}
            return "ag." + names.get(self._data.dtype.name, "Tensor")
        return self.to(dtype)

    def type_as(self, other):
        """Convert to other's dtype."""
        return self.to(other.dtype)

    def view_as(self, other):
        """Reshape to other's shape."""
        return _mv.reshape(self, other.shape)

    def reshape_as(self, other):
        """Reshape to other's shape."""
        return _mv.reshape(self, other.shape)

    def new_tensor(self, data, dtype=None, requires_grad=False):
        """A new tensor from data, with this tensor's dtype by default."""
        return Tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False, device=None):
        """Zeros of the given size, with this tensor's dtype by default."""
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False, device=None):
        """Ones of the given size, with this tensor's dtype by default."""
        return self._new_filled(size, 1, dtype, requires_grad)

    def new_empty(self, *size, dtype=None, requires_grad=False, device=None):
        """An uninitialised (here: zero) tensor of the given size."""
        return self._new_filled(size, 0, dtype, requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False, device=None):
        """A tensor of the given size filled with fill_value."""
        return self._new_filled((size,), fill_value, dtype, requires_grad)

    def _new_filled(self, size, value, dtype, requires_grad):
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        arr = xp.full(size, value, dtype=_dt.as_dtype(dtype) or self.dtype)
        t = Tensor._make(arr)
        if requires_grad:
            t.requires_grad_()
        return t

    # ---- graph -----------------------------------------------------------------------------
    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place (leaves only) and return self."""
        if self.grad_fn is not None:
            if requires_grad:
                return self
            raise RuntimeError("requires_grad_: you can only change requires_grad flags of leaf tensors; "
                               "use detach() to get a tensor that does not require grad")
        if requires_grad:
            _check_requires_grad(self._data, "requires_grad_")
        self._requires_grad = bool(requires_grad)
        return self

    def _accumulator(self):
        """An AccumulateGrad node showing this leaf in next_functions (held weakly: no cycle)."""
        ref = self._acc_ref
        acc = ref() if ref is not None else None
        if acc is None:
            acc = AccumulateGrad(self)
            self._acc_ref = weakref.ref(acc)
        return acc

    def detach(self):
        """A tensor sharing storage (and version counter) that is cut off from the graph."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        """Cut this tensor off the graph in place."""
        self.grad_fn = None
        self._requires_grad = False
        return self

    def clone(self):
        """A copy of the data that stays on the graph (gradient flows back)."""
        return _mv.Clone.apply(self)

    def retain_grad(self):
        """Keep .grad on this non-leaf tensor after backward."""
        if not self._requires_grad:
            raise RuntimeError("retain_grad: can't retain_grad on a Tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        node = self.grad_fn
        if node._retain is None:
            node._retain = {}
            node._simple = False
            node._fast = None
        node._retain[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    @property
    def retains_grad(self):
        """True after retain_grad() on a non-leaf."""
        return self._retains_grad

    def register_hook(self, hook):
        """Call hook(grad) when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = _HookList()
            hooks = self._hooks
        else:
            node = self.grad_fn
            if node._pre_hooks is None:
                node._pre_hooks = {}
                node._simple = False
                node._fast = None
            hooks = node._pre_hooks.setdefault(self._output_nr, _HookList())
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute the gradient of this tensor w.r.t. the graph leaves, accumulating into their .grad."""
        _graph.backward(self, gradient, retain_graph, create_graph, inputs)

    # ---- in-place operations -----------------------------------------------------------------
    def _inplace(self, name, fn, *args):
        """Run fn(self, *args) in place: on the array directly, or recorded on the graph when needed."""
        record = _grad_state.enabled and (self._requires_grad or any(
            isinstance(a, Tensor) and a._requires_grad for a in args))
        if not record:
            return None
        if self.grad_fn is None and self._requires_grad:
            raise RuntimeError(f"{name}: a leaf Tensor that requires grad (shape {self.shape}) is being used in "
                               f"an in-place operation; do it under ag.no_grad() (as optimizers do) or use the "
                               f"out-of-place form")
        base = self._base
        if base is not None:
            if base.grad_fn is None and base._requires_grad:
                raise RuntimeError(f"{name}: a view of a leaf Tensor that requires grad (view shape {self.shape}, "
                                   f"leaf shape {base.shape}) is being used in an in-place operation; do it under "
                                   f"ag.no_grad() or write to a clone()")
            # why: the write would change the base too, but only the view's node would record it
            raise RuntimeError(f"{name}: in-place write through a view (shape {self.shape}) of a tensor of shape "
                               f"{base.shape} that is part of the graph is not supported, because the base's "
                               f"gradient would not see it; index the base directly (base[idx] = v) or clone() "
                               f"the view first")
        # why: the op records an alias of the old value; the tensor then takes over the result's node
        alias = Tensor._make(self._data, self._requires_grad, self.grad_fn, self._output_nr)
        alias._vc = self._vc
        out = fn(alias, *args)
        self._write(out._data, name)
        self.grad_fn, self._output_nr, self._requires_grad = out.grad_fn, out._output_nr, out._requires_grad
        return self

    def _write(self, values, name):
        """Copy values into this tensor's storage and bump its version."""
        try:
            xp.copyto(self._data, values, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"{name}: can't write a result of shape {xp.shape(values)} and dtype "
                               f"{xp.asarray(values).dtype} into a tensor of shape {self.shape} and dtype "
                               f"{self.dtype} ({e})") from None
        self._vc[0] += 1

    def _ufunc_inplace(self, name, fn, ufunc, other):
        if self._inplace(name, fn, other) is not None:
            return self
        try:
            ufunc(self._data, _data(other), out=self._data, casting="same_kind")
        except (ValueError, TypeError) as e:
            raise RuntimeError(f"{name}: can't update a tensor of shape {self.shape} and dtype {self.dtype} in "
                               f"place with a value of shape {xp.shape(_data(other))} and dtype "
                               f"{xp.asarray(_data(other)).dtype} ({e})") from None
        self._vc[0] += 1
        return self

    def add_(self, other, alpha=1):
        """self += alpha * other, in place."""
        if alpha != 1:
            other = other * alpha
        return self._ufunc_inplace("add_", _add_apply, xp.add, other)

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place."""
        if alpha != 1:
            other = other * alpha
        return self._ufunc_inplace("sub_", _sub_apply, xp.subtract, other)

    def mul_(self, other):
        """self *= other, in place."""
        return self._ufunc_inplace("mul_", _mul_apply, xp.multiply, other)

    def div_(self, other):
        """self /= other, in place."""
        return self._ufunc_inplace("div_", _div_apply, xp.true_divide, other)

    def pow_(self, exponent):
        """self **= exponent, in place."""
        return self._ufunc_inplace("pow_", _pow_apply, xp.power, exponent)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self):
        """Fill with zeros, in place."""
        return self.fill_(0)

    def fill_(self, value):
        """Fill with value, in place."""
        if self._inplace("fill_", lambda a, v: a * 0 + v, value) is None:
            self._data[...] = _data(value)
            self._vc[0] += 1
        return self

    def copy_(self, src):
        """Copy src's values (broadcast) into this tensor, in place."""
        if self._inplace("copy_", lambda a, s: a * 0 + s, src) is None:
            self._write(_data(src), "copy_")
        return self

    def clamp_(self, min=None, max=None):
        """Clamp to [min, max], in place."""
        if self._inplace("clamp_", lambda a, lo, hi: _ew.clamp(a, lo, hi), min, max) is None:
            self._write(xp.clip(self._data, _data(min), _data(max)), "clamp_")
        return self

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        """Set elements where mask is True to value, in place."""
        if self._inplace("masked_fill_", _ix.masked_fill, mask, value) is None:
            self._write(xp.where(_data(mask), _data(value), self._data), "masked_fill_")
        return self

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fill with U(a, b) samples, in place."""
        from .creation import _rng
        self._assert_no_grad_inplace("uniform_")
        self._write(_rng(generator).uniform(a, b, self.shape), "uniform_")
        return self

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fill with N(mean, std^2) samples, in place."""
        from .creation import _rng
        self._assert_no_grad_inplace("normal_")
        self._write(_rng(generator).normal(mean, std, self.shape), "normal_")
        return self

    def bernoulli_(self, p=0.5, generator=None):
        """Fill with Bernoulli(p) samples, in place."""
        from .creation import _rng
        self._assert_no_grad_inplace("bernoulli_")
        self._write(_rng(generator).random(self.shape) < _data(p), "bernoulli_")
        return self

    def _assert_no_grad_inplace(self, name):
        if _grad_state.enabled and self._requires_grad and self.grad_fn is None:
            raise RuntimeError(f"{name}: a leaf Tensor that requires grad (shape {self.shape}) is being used in an "
                               f"in-place operation; wrap it in ag.no_grad()")

    def __setitem__(self, index, value):
        _ix.setitem(self, index, value)

    # ---- operators ---------------------------------------------------------------------------
    # why: the plain binary operators are the op's own apply (one call less per op on the hot path)
    __add__ = _add_apply

    def __radd__(self, other):
        return _add_apply(other, self)

    __sub__ = _sub_apply

    def __rsub__(self, other):
        return _sub_apply(other, self)

    __mul__ = _mul_apply

    def __rmul__(self, other):
        return _mul_apply(other, self)

    __truediv__ = _div_apply

    def __rtruediv__(self, other):
        return _div_apply(other, self)

    def __floordiv__(self, other):
        return _floordivide_apply(self, other)

    def __rfloordiv__(self, other):
        return _floordivide_apply(other, self)

    def __mod__(self, other):
        return self - _floordivide_apply(self, other) * other

    def __pow__(self, other):
        return _pow_apply(self, other)

    def __rpow__(self, other):
        return _pow_apply(other, self)

    def __matmul__(self, other):
        return _la.matmul(self, other)

    def __rmatmul__(self, other):
        return _la.matmul(other, self)

    def __neg__(self):
        return _neg_apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _abs_apply(self)

    def __eq__(self, other):
        return _ew.eq(self, other)

    def __ne__(self, other):
        return _ew.ne(self, other)

    def __lt__(self, other):
        return _ew.lt(self, other)

    def __le__(self, other):
        return _ew.le(self, other)

    def __gt__(self, other):
        return _ew.gt(self, other)

    def __ge__(self, other):
        return _ew.ge(self, other)

    def __invert__(self):
        return _ew._invert(self)

    def __and__(self, other):
        return _ew._bitwise_and(self, other)

    def __or__(self, other):
        return _ew._bitwise_or(self, other)

    def __rand__(self, other):
        return _ew._bitwise_and(other, self)

    def __ror__(self, other):
        return _ew._bitwise_or(other, self)

    def __xor__(self, other):
        return _ew.logical_xor(self, other)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return _ix.getitem(self, index)

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"bool: the truth value of a Tensor with {self._data.size} elements is ambiguous; "
                               f"use .any() or .all()")
        return bool(self._data.reshape(()))

    def __index__(self):
        if self._data.size != 1 or self._data.dtype.kind not in "iub":
            raise TypeError(f"__index__: only integer tensors of a single element can be converted to an index "
                            f"(got shape {self.shape}, dtype {self.dtype})")
        return int(self._data.reshape(()))

    def __int__(self):
        return int(self.item())

    def __float__(self):
        return float(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_mv.unbind(self, 0))

    def __contains__(self, item):
        return bool((self._data == _data(item)).any())

    def __format__(self, spec):
        if self._data.size == 1 and self._data.ndim <= 1 or self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format: unsupported format string '{spec}' for a Tensor of shape {self.shape}; "
                            f"only one-element tensors take a number format")
        return repr(self)

    def __repr__(self):
        arr = self._data
        body = xp.array2string(arr, separator=", ", prefix="tensor(",
                               formatter=None if arr.dtype.kind != "f" else None)
        extras = []
        default_shown = (_dt._Defaults.dtype, xp.dtype("int64"), xp.dtype("bool"))
        if arr.dtype not in default_shown or (arr.size == 0):
            extras.append(f"dtype={arr.dtype}")
        if self.grad_fn is not None:
            extras.append(f"grad_fn=<{self.grad_fn.name()}>")
        elif self._requires_grad:
            extras.append("requires_grad=True")
        return "tensor(" + body + "".join(", " + e for e in extras) + ")"

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        # why: copy.deepcopy (used by Module copies) goes through here; keep data and requires_grad
        return (_rebuild, (self._data.copy(), self._requires_grad, type(self)))

    def __deepcopy__(self, memo):
        if self.grad_fn is not None:
            raise RuntimeError("deepcopy: only leaf Tensors support deepcopy (detach() first)")
        t = self.__class__.__new__(self.__class__)
        t.__dict__.update({k: v for k, v in self.__dict__.items() if k not in ("_acc_ref", "_hooks", "_grad")})
        t._data = self._data.copy()
        t._vc = [0]
        if self._grad is not None:
            t._grad = Tensor._make(self._grad._data.copy())
        memo[id(self)] = t
        return t

    # ---- elementwise math --------------------------------------------------------------------
    def add(self, other, alpha=1):
        """self + alpha * other."""
        return _ew.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other."""
        return _ew.sub(self, other, alpha=alpha)

    def mul(self, other):
        """self * other."""
        return _mul_apply(self, other)

    def div(self, other, rounding_mode=None):
        """self / other."""
        return _ew.div(self, other, rounding_mode=rounding_mode)

    def pow(self, exponent):
        """self ** exponent."""
        return _pow_apply(self, exponent)

    def neg(self):
        """-self."""
        return _neg_apply(self)

    def abs(self):
        """|self|."""
        return _abs_apply(self)

    def exp(self):
        """e ** self."""
        return _exp_apply(self)

    def log(self):
        """Natural logarithm."""
        return _log_apply(self)

    def log1p(self):
        """log(1 + self)."""
        return _ew.Log1p.apply(self)

    def expm1(self):
        """exp(self) - 1."""
        return _ew.Expm1.apply(self)

    def sqrt(self):
        """Square root."""
        return _sqrt_apply(self)

    def rsqrt(self):
        """1 / sqrt(self)."""
        return _rsqrt_apply(self)

    def reciprocal(self):
        """1 / self."""
        return _reciprocal_apply(self)

    def square(self):
        """self ** 2."""
        return _square_apply(self)

    def sin(self):
        """Sine."""
        return _sin_apply(self)

    def cos(self):
        """Cosine."""
        return _cos_apply(self)

    def tan(self):
        """Tangent."""
        return _tan_apply(self)

    def tanh(self):
        """Hyperbolic tangent."""
        return _tanh_apply(self)

    def sigmoid(self):
        """Logistic sigmoid."""
        return _sigmoid_apply(self)

    def relu(self):
        """max(self, 0)."""
        return _relu_apply(self)

    def sign(self):
        """Sign (zero gradient)."""
        return _sign_apply(self)

    def floor(self):
        """Round down (zero gradient)."""
        return _floor_apply(self)

    def ceil(self):
        """Round up (zero gradient)."""
        return _ceil_apply(self)

    def round(self, decimals=0):
        """Round half to even (zero gradient)."""
        return _round_apply(self, decimals)

    def erf(self):
        """Error function."""
        return _erf_apply(self)

    def clamp(self, min=None, max=None):
        """Limit to [min, max]."""
        return _ew.clamp(self, min, max)

    clip = clamp

    def maximum(self, other):
        """Elementwise maximum."""
        return _maximum_apply(self, other)

    def minimum(self, other):
        """Elementwise minimum."""
        return _minimum_apply(self, other)

    def where(self, condition, other):
        """self where condition else other."""
        return _where_apply(condition, self, other)

    def eq(self, other):
        """self == other."""
        return _ew.eq(self, other)

    def ne(self, other):
        """self != other."""
        return _ew.ne(self, other)

    def lt(self, other):
        """self < other."""
        return _ew.lt(self, other)

    def le(self, other):
        """self <= other."""
        return _ew.le(self, other)

    def gt(self, other):
        """self > other."""
        return _ew.gt(self, other)

    def ge(self, other):
        """self >= other."""
        return _ew.ge(self, other)

    def isnan(self):
        """True where NaN."""
        return _ew.isnan(self)

    def isinf(self):
        """True where +-inf."""
        return _ew.isinf(self)

    def isfinite(self):
        """True where finite."""
        return _ew.isfinite(self)

    def logical_not(self):
        """Elementwise not."""
        return _ew.logical_not(self)

    # ---- reductions (ops/reduce.py) ----------------------------------------------------------
    def sum(self, *args, **kwargs):
        """Sum over dim (int or tuple; all when None), keepdim as PyTorch."""
        return _rd.sum(self, *args, **kwargs)

    def mean(self, *args, **kwargs):
        """Mean over dim."""
        return _rd.mean(self, *args, **kwargs)

    def prod(self, *args, **kwargs):
        """Product over dim."""
        return _rd.prod(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        """Variance over dim (correction=1 by default)."""
        return _rd.var(self, *args, **kwargs)

    def std(self, *args, **kwargs):
        """Standard deviation over dim (correction=1 by default)."""
        return _rd.std(self, *args, **kwargs)

    def max(self, *args, **kwargs):
        """Max of all elements, or (values, indices) along dim, or elementwise max with a tensor."""
        return _rd.max(self, *args, **kwargs)

    def min(self, *args, **kwargs):
        """Min of all elements, or (values, indices) along dim, or elementwise min with a tensor."""
        return _rd.min(self, *args, **kwargs)

    def amax(self, *args, **kwargs):
        """Max over dim (gradient shared between ties)."""
        return _rd.amax(self, *args, **kwargs)

    def amin(self, *args, **kwargs):
        """Min over dim (gradient shared between ties)."""
        return _rd.amin(self, *args, **kwargs)

    def logsumexp(self, *args, **kwargs):
        """log(sum(exp(self))) over dim, computed stably."""
        return _rd.logsumexp(self, *args, **kwargs)

    def softmax(self, dim, dtype=None):
        """exp(self) / sum(exp(self)) along dim, with the max subtracted (as F.softmax)."""
        from .ops import nn_ops  # why: nn_ops imports this module
        x = self if dtype is None else self.to(dtype)
        return nn_ops.softmax(x, _rd._single_dim(x, dim, "softmax") if x.ndim else None)

    def log_softmax(self, dim, dtype=None):
        """self - logsumexp(self) along dim, never overflowing (as F.log_softmax)."""
        from .ops import nn_ops  # why: nn_ops imports this module
        x = self if dtype is None else self.to(dtype)
        return nn_ops.log_softmax(x, _rd._single_dim(x, dim, "log_softmax") if x.ndim else None)

    def norm(self, *args, **kwargs):
        """Vector p-norm (2 by default) over dim or all elements."""
        return _rd.norm(self, *args, **kwargs)

    def argmax(self, *args, **kwargs):
        """Index of the max (int64, no gradient)."""
        return _rd.argmax(self, *args, **kwargs)

    def argmin(self, *args, **kwargs):
        """Index of the min (int64, no gradient)."""
        return _rd.argmin(self, *args, **kwargs)

    def cumsum(self, *args, **kwargs):
        """Cumulative sum along dim."""
        return _rd.cumsum(self, *args, **kwargs)

    def all(self, *args, **kwargs):
        """True if all elements (along dim) are nonzero."""
        return _rd.all(self, *args, **kwargs)

    def any(self, *args, **kwargs):
        """True if any element (along dim) is nonzero."""
        return _rd.any(self, *args, **kwargs)

    # ---- shape and movement (ops/movement.py) -------------------------------------------------
    def reshape(self, *shape):
        """Same data, new shape (one dimension may be -1)."""
        return _mv.reshape(self, *shape)

    def view(self, *shape):
        """Same data, new shape; view(dtype) is not supported."""
        return _mv.reshape(self, *shape)

    def flatten(self, *args, **kwargs):
        """Flatten dims start_dim..end_dim into one."""
        return _mv.flatten(self, *args, **kwargs)

    def unflatten(self, *args, **kwargs):
        """Split dim into the given sizes."""
        return _mv.unflatten(self, *args, **kwargs)

    def squeeze(self, *args, **kwargs):
        """Remove size-1 dims (all, or the given ones)."""
        return _mv.squeeze(self, *args, **kwargs)

    def unsqueeze(self, *args, **kwargs):
        """Insert a size-1 dim at dim."""
        return _mv.unsqueeze(self, *args, **kwargs)

    def transpose(self, *args, **kwargs):
        """Swap two dims."""
        return _mv.transpose(self, *args, **kwargs)

    def t(self):
        """Transpose a tensor of at most 2 dims."""
        if self.ndim > 2:
            raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, but got shape {self.shape}; use transpose")
        return _mv.transpose(self, 0, -1) if self.ndim == 2 else self

    def permute(self, *dims):
        """Reorder dims."""
        return _mv.permute(self, *dims)

    def swapaxes(self, *args, **kwargs):
        """Swap two dims (alias of transpose)."""
        return _mv.transpose(self, *args, **kwargs)

    swapdims = swapaxes

    def moveaxis(self, *args, **kwargs):
        """Move dims to new positions."""
        return _mv.movedim(self, *args, **kwargs)

    movedim = moveaxis

    def expand(self, *sizes):
        """Broadcast to a larger size (-1 keeps a dim)."""
        return _mv.expand(self, *sizes)

    def expand_as(self, other):
        """Broadcast to other's shape."""
        return _mv.expand(self, other.shape)

    def broadcast_to(self, shape):
        """Broadcast to shape."""
        return _mv.broadcast_to(self, shape)

    def repeat(self, *sizes):
        """Tile the tensor sizes[i] times along each dim."""
        return _mv.repeat(self, *sizes)

    def tile(self, *args, **kwargs):
        """Tile as NumPy's tile / torch.tile."""
        return _mv.tile(self, *args, **kwargs)

    def flip(self, *args, **kwargs):
        """Reverse the order along dims."""
        return _mv.flip(self, *args, **kwargs)

    def roll(self, *args, **kwargs):
        """Roll elements along dims."""
        return _mv.roll(self, *args, **kwargs)

    def split(self, *args, **kwargs):
        """Split into chunks of a size (or list of sizes) along dim."""
        return _mv.split(self, *args, **kwargs)

    def chunk(self, *args, **kwargs):
        """Split into a number of chunks along dim."""
        return _mv.chunk(self, *args, **kwargs)

    def unbind(self, *args, **kwargs):
        """Tuple of slices along dim (which is removed)."""
        return _mv.unbind(self, *args, **kwargs)

    def narrow(self, *args, **kwargs):
        """The slice start:start+length along dim."""
        return _mv.narrow(self, *args, **kwargs)

    def tril(self, *args, **kwargs):
        """Lower triangle (other elements zero)."""
        return _mv.tril(self, *args, **kwargs)

    def triu(self, *args, **kwargs):
        """Upper triangle (other elements zero)."""
        return _mv.triu(self, *args, **kwargs)

    # ---- indexing and selection (ops/indexing.py) ----------------------------------------------
    def gather(self, *args, **kwargs):
        """Values at index along dim."""
        return _ix.gather(self, *args, **kwargs)

    def scatter_add(self, *args, **kwargs):
        """self with src added at index along dim."""
        return _ix.scatter_add(self, *args, **kwargs)

    def index_select(self, *args, **kwargs):
        """Entries at index along dim."""
        return _ix.index_select(self, *args, **kwargs)

    def masked_fill(self, *args, **kwargs):
        """value where mask is True, else self."""
        return _ix.masked_fill(self, *args, **kwargs)

    def topk(self, *args, **kwargs):
        """The k largest (or smallest) values along dim and their indices."""
        return _ix.topk(self, *args, **kwargs)

    def sort(self, *args, **kwargs):
        """Sorted values along dim and their indices."""
        return _ix.sort(self, *args, **kwargs)

    def argsort(self, *args, **kwargs):
        """Indices that sort along dim."""
        return _ix.argsort(self, *args, **kwargs)

    def unique(self, *args, **kwargs):
        """Sorted unique values (no gradient)."""
        return _ix.unique(self, *args, **kwargs)

    def nonzero(self, *args, **kwargs):
        """Indices of nonzero elements."""
        return _ix.nonzero(self, *args, **kwargs)

    # ---- linear algebra (ops/linalg.py) ------------------------------------------------------
    def matmul(self, other):
        """Matrix product with batching and broadcasting."""
        return _la.matmul(self, other)

    def mm(self, other):
        """2-D matrix product."""
        return _la.mm(self, other)

    def bmm(self, other):
        """Batched 3-D matrix product."""
        return _la.bmm(self, other)

    def outer(self, other):
        """Outer product of two vectors."""
        return _la.outer(self, other)

    def dot(self, other):
        """Dot product of two vectors."""
        return _la.dot(self, other)


def _rebuild(data, requires_grad, cls):
    t = cls.__new__(cls)
    t._data = data
    t._vc = [0]
    t._requires_grad = requires_grad
    return t


def _bind():
    """Give the modules that need Tensor (and are imported by it) the class."""
    from . import function, graph
    function._bind_tensor(Tensor)
    graph._bind_tensor(Tensor)
    _ew._bind_tensor(Tensor)
    for mod in (_ix, _la, _mv, _rd):
        if hasattr(mod, "_bind_tensor"):
            mod._bind_tensor(Tensor)


_bind()
