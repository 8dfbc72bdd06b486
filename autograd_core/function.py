"""Function: the base of every differentiable op; `apply` runs forward and records the node.

One mechanism serves the library's primitives and users' own ops (PyTorch's `torch.autograd.Function`):

    class Exp(ag.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y
        @staticmethod
        def backward(ctx, grad):
            y, = ctx.saved_tensors
            return grad * y

The node recorded on the graph *is* the `ctx` object: an instance of the Function subclass holding
the saved tensors, the edges to the nodes that made the inputs, and what the reverse pass needs.

Library primitives set `_array_forward = True`: their forward receives NumPy arrays (and plain
Python scalars) and returns arrays, and their backward is written with operators and `xp.*`
functions only, so the one formula runs on plain arrays during an ordinary backward (fast) and on
Tensors when `create_graph=True` (NumPy's dispatch protocols route `xp.exp(tensor)` to the
Tensor op, which records the graph of the gradient itself).
"""
import itertools
import traceback

from . import anomaly as _anomaly
from . import trace as _tracemod
from .backend import xp
from .grad_mode import _state as _grad_state

_new = object.__new__
_ndarray = xp.ndarray
_generic = xp.generic
_anomaly_state = _anomaly._state
_trace = _tracemod.state
_FALSES = [(False,) * n for n in range(64)]
_FALSE1, _FALSE2, _TRUE1 = (False,), (False, False), (True,)
_TRUE_FALSE, _FALSE_TRUE, _TRUE2 = (True, False), (False, True), (True, True)
_PLAIN = frozenset([int, float, bool, str, tuple, type(None), complex])
_NUMBER = frozenset([int, float])
# why: a node's consumers are always created after it; the plain reverse pass pops the newest first
_next_seq = itertools.count(-1, -1).__next__
_SCALARS = {}  # dtype.str -> {number: read-only 0-d array}
_F32 = xp.dtype(xp.float32)
_F32_SCALARS = _SCALARS.setdefault(_F32.str, {})


def _scalar_array(value, dtype):
    """A cached read-only 0-d array for a Python number next to a float tensor.

    why: NumPy 2 takes about twice as long for `array * 1.01` as for `array * array(1.01)`
    (NEP 50 weak-scalar handling), in forward and again in every backward formula using it.
    The value is the one PyTorch computes with: a Python number used with a float tensor
    takes the tensor's dtype. One dict per dtype, keyed by the number (1 and 1.0 share an entry:
    they give the same array; 0.0 and -0.0 would too, but differ, so zeros are not cached).
    """
    table = _F32_SCALARS if dtype is _F32 else _SCALARS.setdefault(dtype.str, {})
    arr = table.get(value)
    if arr is None:
        arr = xp.array(value, dtype=dtype)
        if value == 0:
            return arr
        if len(table) > 4096:
            table.clear()
        arr.flags.writeable = False
        table[value] = arr
    return arr


def _scalar_beside(value, array):
    """The operand a Python number becomes next to `array`: a cached 0-d array for a float array."""
    dtype = array.dtype
    if dtype is _F32:  # why: the common case first; reading .kind and hashing dtypes cost more
        arr = _F32_SCALARS.get(value)
        return arr if arr is not None else _scalar_array(value, dtype)
    return _scalar_array(value, dtype) if dtype.kind == "f" else value


class _EngineState:
    """Set by the reverse pass: under create_graph, saved tensors unpack as Tensors, not arrays."""

    def __init__(self):
        self.create_graph = False


_engine = _EngineState()  # an instance: fast attribute reads (see grad_mode._state)
_UNTRACKED = object()  # stands for "no input array to track" in the apply fast paths
_FREED = object()  # marks a node whose saved tensors were released after its backward

Tensor = None  # bound by tensor.py once Tensor exists (the two modules need each other)


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


class Function:
    """Base class for differentiable operations: subclass it with static forward and backward."""

    # why: library primitives compute on arrays; user Functions see Tensors as in PyTorch
    _array_forward = False
    # why: ops whose output is a view of their first input share its version counter
    _is_view = False
    # why: for arithmetic ops a Python number beside a float tensor becomes a 0-d array of its dtype
    _number_operands = False
    # why: an elementwise array primitive whose output has its inputs' broadcast shape and their dtype; an
    # edge from inputs of one shape and dtype is marked exact (the edge's 5th item), and the plain reverse
    # pass takes the gradient across it without checking shape and dtype (tests/test_ops.py checks the rule)
    _elementwise = False

    _edges = ()
    # what forward saved: a tuple when nothing in it can change, a _Saved when some of it belongs to a
    # tensor (version-checked), _FREED once the backward released it
    _saved = None
    _to_save = ()
    _stack = None
    _site = None      # (file, line, source) of the user's code, when ag.viz records sites
    _module = ()      # module-call path, when forward ran inside trace.module_scope
    _inputs = None    # copies of the forward inputs, under checked mode
    formula = None    # the local derivative rule, shown by ag.viz.explain_backward
    _reductions = None  # {input index: (grad shape, input shape, axes)} once a broadcast grad was summed
    _out = None       # the output Tensor(s), kept while ag.viz records (values and grads to draw)
    _non_diff = ()
    _pre_hooks = None
    _retain = None
    _n_outputs = 1
    # why: single output, no hooks, no retain_grad -- its backward takes the gradient bare
    _simple = True
    # why: the plain reverse pass calls this directly (one attribute read per node): the class's backward
    # for an array primitive that is not a view, None otherwise; set to None on a node that gains hooks,
    # retain_grad or several outputs
    _fast = None
    _seq = None  # creation number of a recorded node (counting down), the plain reverse pass's order
    needs_input_grad = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._fast = staticmethod(cls.backward) if cls._array_forward and not cls._is_view else None
        if cls._array_forward:
            # why: apply() specialised to this class and one or two inputs: Tensor operators and the
            # op functions call these directly (see _unary_apply / _binary_apply)
            cls._apply1 = staticmethod(_unary_apply(cls))
            cls._apply2 = staticmethod(_binary_apply(cls))

    # ---- the ctx API used inside forward/backward -------------------------------------
    def save_for_backward(self, *tensors):
        """Keep tensors (inputs or outputs of this op) for use in backward."""
        self._to_save = tensors

    @property
    def saved_tensors(self):
        """The saved tensors; raises if the graph was freed or one was modified in place."""
        saved = self._saved
        if saved.__class__ is tuple:
            return saved  # why: the hot path -- nothing saved that can change under the node's feet
        if saved.__class__ is _Saved and self._array_forward and not _engine.create_graph:
            for entry in saved.tracked:
                if entry[2][0] != entry[3]:
                    break  # modified in place: _unpack_saved raises the error
            else:
                return saved.values
        return self._unpack_saved()

    def _unpack_saved(self):
        """saved_tensors in general: freed graph, version checks, Tensors under create_graph."""
        saved = self._saved
        if saved is None:
            return ()
        if saved is _FREED:
            raise RuntimeError(_freed_message(self))
        if saved.__class__ is tuple:
            return saved
        values, tracked = saved.values, saved.tracked
        for _i, _tensor, vc, version, _nr, array in tracked:
            if vc[0] != version:
                raise RuntimeError(_version_message(self, array, version, vc[0]))
        if self._array_forward and not _engine.create_graph:
            return values  # ordinary backward: plain arrays
        out = list(values)
        for i, tensor, vc, _version, nr, array in tracked:
            if tensor is None:
                # why: an output is stored as its array (a Tensor would make a reference cycle);
                # rebuilt here, linked to this node, so gradients of gradients flow through it.
                tensor = Tensor._make(array, True, self, nr)
                tensor._vc = vc
            out[i] = tensor
        return tuple(out)

    def mark_non_differentiable(self, *outputs):
        """Declare outputs that carry no gradient (as in PyTorch)."""
        self._non_diff = outputs

    def mark_dirty(self, *tensors):
        """Accepted for PyTorch compatibility; in-place Functions are not supported."""
        raise RuntimeError(f"{type(self).__name__}: in-place custom Functions (mark_dirty) are not supported")

    def set_materialize_grads(self, value):
        """Accepted for PyTorch compatibility: missing output gradients are always zeros."""

    # ---- what the graph shows ---------------------------------------------------------
    def name(self):
        """The node's name as PyTorch prints it, e.g. 'MulBackward0'."""
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self):
        """((node, output_nr) or (None, 0)) for each input, as in PyTorch."""
        return tuple((None, 0) if e is None else
                     ((e[0]._accumulator(), 0) if isinstance(e[0], Tensor) else (e[0], e[1]))
                     for e in self._edges)

    @property
    def metadata(self):
        """A dict users may annotate nodes with (the graph drawings read 'name')."""
        md = self.__dict__.get("_metadata")
        if md is None:
            md = self._metadata = {}
        return md

    def __repr__(self):
        return f"<{self.name()}>"

    # ---- forward ------------------------------------------------------------------------
    @staticmethod
    def forward(ctx, *args):
        """Compute the op's result; override in subclasses."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        """Return one gradient (or None) per forward input; override in subclasses."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args):
        """Run forward on args and, when any input requires grad, record this op on the graph."""
        if cls._array_forward:
            # why: most ops take one or two inputs; unrolled paths avoid loops on the hot path
            n = len(args)
            if n == 2:
                return cls._apply2(*args)
            if n == 1:
                return cls._apply1(args[0])
        ctx = _new(cls)
        out, fargs, record = _apply_general(cls, ctx, args)
        return _finish(cls, ctx, out, record, args, fargs)


def _unary_apply(cls):
    """apply() for the array primitive cls called with one input, as a function made for that class.

    why: this is the engine's per-op hot path; the class's forward and flags are bound once here
    (forward is looked up at class creation: replace it by subclassing, not by assignment).
    """
    forward = cls.forward
    is_view = cls._is_view
    exact = cls._elementwise  # one input: the output has its shape and dtype

    def apply1(a):
        ctx = _new(cls)
        record = False
        if isinstance(a, Tensor):
            da = a._data
            if a._requires_grad and _grad_state.enabled:
                record = True
                ctx._edges = ((a.grad_fn or a, a._output_nr, da.shape, da.dtype, exact),)
                ctx.needs_input_grad = _TRUE1
            else:
                ctx.needs_input_grad = _FALSE1
        else:
            da = a
            ctx.needs_input_grad = _FALSE1
        try:
            out = forward(ctx, da)
        except ValueError as e:
            raise _forward_error(cls, e, (a,)) from None
        if type(out) is not _ndarray or is_view:
            return _finish(cls, ctx, out, record, (a,), (da,))
        # the common case, inlined: one array output
        t = _new(Tensor)
        t._data = out
        t._vc = [0]
        if record:
            ctx._seq = _next_seq()
            if out.dtype is _F32 or out.dtype.kind in "fc":
                t._requires_grad = True
                t.grad_fn = ctx
                # why: the next op reads it for its edge; an instance attribute reads ~4x faster than
                # the class default through an instance
                t._output_nr = 0
            to_save = ctx._to_save
            if to_save:
                ctx._saved = _track_arrays(to_save, a, da, None, None, t)
            if _trace.active:
                _trace_forward(ctx, t, (da,))
        return t

    # why: a code object of its own per class, so the interpreter's attribute caches inside see one
    # node type (shared code would see every op's ctx class and fall back to generic lookups)
    apply1.__code__ = apply1.__code__.replace()
    apply1.__qualname__ = f"{cls.__qualname__}.apply"
    apply1.__doc__ = f"{cls.__name__}.apply(input): run forward and record the op on the graph."
    return apply1


def _binary_apply(cls):
    """apply() for the array primitive cls called with two inputs (see _unary_apply).

    A Python number beside a float array becomes a cached 0-d array of its dtype when the op
    takes number operands (_scalar_array says why).
    """
    forward = cls.forward
    is_view = cls._is_view
    numbers = cls._number_operands
    elementwise = cls._elementwise

    def apply2(a, b):
        ctx = _new(cls)
        ea = eb = None
        # ta / tb: an input Tensor's array, whose version a save must track (else a marker that is nothing)
        if isinstance(a, Tensor):
            da = ta = a._data
            dt = da.dtype
            # why: the number test first -- isinstance() is slow when the answer is no
            if numbers and b.__class__ in _NUMBER:
                db = _F32_SCALARS.get(b) if dt is _F32 else None  # a float32 cache hit, inlined
                if db is None:
                    db = _scalar_beside(b, da)
                tb = _UNTRACKED
                if a._requires_grad and _grad_state.enabled:
                    # a number's 0-d array of a's dtype: the output has a's shape and dtype
                    ea = (a.grad_fn or a, a._output_nr, da.shape, dt, elementwise)
            elif isinstance(b, Tensor):
                db = tb = b._data
                need_a = a._requires_grad and _grad_state.enabled
                need_b = b._requires_grad and _grad_state.enabled
                if need_a or need_b:
                    sa, sb, dtb = da.shape, db.shape, db.dtype
                    exact = elementwise and dt is dtb and sa == sb
                    if need_a:
                        ea = (a.grad_fn or a, a._output_nr, sa, dt, exact)
                    if need_b:
                        eb = (b.grad_fn or b, b._output_nr, sb, dtb, exact)
            else:
                db = b
                tb = _UNTRACKED
                if a._requires_grad and _grad_state.enabled:
                    ea = (a.grad_fn or a, a._output_nr, da.shape, dt, False)
        else:
            db = tb = b._data
            if numbers and a.__class__ in _NUMBER:
                da = _scalar_beside(a, db)
                exact = elementwise
            else:
                da = a
                exact = False
            if b._requires_grad and _grad_state.enabled:
                eb = (b.grad_fn or b, b._output_nr, db.shape, db.dtype, exact)
            ta = _UNTRACKED
        if ea is not None:
            ctx._edges = (ea, eb)
            ctx.needs_input_grad = _TRUE_FALSE if eb is None else _TRUE2
        elif eb is not None:
            ctx._edges = (ea, eb)
            ctx.needs_input_grad = _FALSE_TRUE
        else:
            ctx.needs_input_grad = _FALSE2
        try:
            out = forward(ctx, da, db)
        except ValueError as e:
            raise _forward_error(cls, e, (a, b)) from None
        if type(out) is not _ndarray or is_view:
            return _finish(cls, ctx, out, ea is not None or eb is not None, (a, b), (da, db))
        # why: the same steps as apply1's, written out again -- a shared helper call would cost as
        # much as the rest of this path
        t = _new(Tensor)
        t._data = out
        t._vc = [0]
        if ea is not None or eb is not None:
            ctx._seq = _next_seq()
            if out.dtype is _F32 or out.dtype.kind in "fc":
                t._requires_grad = True
                t.grad_fn = ctx
                t._output_nr = 0
            to_save = ctx._to_save
            if to_save:
                ctx._saved = to_save
                # why: most saves are constants (a number's 0-d array): look for anything to track first
                for item in to_save:
                    if item is out or item is ta or item is tb or (item is not None and item.__class__ is not _ndarray):
                        ctx._saved = _track_arrays(to_save, a, da, b, db, t)
                        break
            if _trace.active:
                _trace_forward(ctx, t, (da, db))
        return t

    apply2.__code__ = apply2.__code__.replace()  # one code object per class (see _unary_apply)
    apply2.__qualname__ = f"{cls.__qualname__}.apply"
    apply2.__doc__ = f"{cls.__name__}.apply(a, b): run forward and record the op on the graph."
    return apply2


def _finish(cls, ctx, out, record, args, fargs):
    """The rest of apply() for any op: wrap the output(s), link views, pack what forward saved."""
    if type(out) is _ndarray:
        t = _new(Tensor)
        t._data = out
        t._vc = [0]
        if record and out.dtype.kind in "fc":
            t._requires_grad = True
            t.grad_fn = ctx
    else:
        t = _wrap_outputs(out, ctx, record)
    if cls._is_view and type(t) is not tuple:
        # why: a view shares its base's storage: same version counter, and in-place writes
        # through it must know the base (Tensor._inplace refuses what it can't record)
        src = args[0]
        t._vc = src._vc
        t._base = src if src._base is None else src._base
        if record:
            ctx._view_vc, ctx._view_version = src._vc, src._vc[0]
    if record:
        ctx._seq = _next_seq()
        to_save = ctx._to_save
        if to_save:
            ctx._saved = _pack_saved(to_save, args, fargs, t, out)
        if _trace.active:
            _trace_forward(ctx, t, fargs)
    return t


class _Saved:
    """What a node saved when some of it belongs to a tensor: the values, and for those the
    (position, tensor or None for an output, version counter, version at save, output_nr, array)."""

    __slots__ = ("values", "tracked")

    def __init__(self, values, tracked):
        self.values = values
        self.tracked = tracked


def _track_arrays(to_save, a, da, b, db, t):
    """ctx._saved for an array primitive of one or two inputs and one array output: to_save itself,
    or a _Saved tracking the saved arrays that are an input Tensor's data or the output."""
    tracked = None
    out = t._data
    pos = -1
    for item in to_save:
        pos += 1
        if item.__class__ is not _ndarray:
            if item is not None and isinstance(item, Tensor):
                # a Tensor saved by an array primitive: the general packing unwraps and tracks it
                return _pack_saved(to_save, (a, b), (da, db), t, out)
            continue
        if item is out:
            entry = (pos, None, t._vc, t._vc[0], 0, out)
        elif item is da and isinstance(a, Tensor):
            entry = (pos, a, a._vc, a._vc[0], 0, da)
        elif item is db and isinstance(b, Tensor):
            entry = (pos, b, b._vc, b._vc[0], 0, db)
        else:
            continue
        if tracked is None:
            tracked = [entry]
        else:
            tracked.append(entry)
    return to_save if tracked is None else _Saved(to_save, tracked)


def _trace_forward(ctx, t, fargs):
    """Record what the opt-in tools need on a new node: stack, site, module path, inputs."""
    if _anomaly_state.enabled:
        ctx._stack = traceback.extract_stack()[:-2]
        _anomaly.check_forward(ctx, t)
    if _trace.sites:
        ctx._site = _tracemod.user_site(3)
    if _trace.modules:
        ctx._module = tuple(_trace.modules)
    if _trace.keep_outputs:
        # why: a drawing shows intermediate values and gradients; kept only while recording
        ctx._out = t
        for o in (t if type(t) is tuple else (t,)):
            if o._requires_grad:
                o.retain_grad()
    if _trace.keep_inputs:
        ctx._inputs = tuple((x._data if isinstance(x, Tensor) else x).copy()
                            if isinstance(x, (Tensor, _ndarray)) else x for x in fargs)


def _apply_general(cls, ctx, args):
    """Function.apply for any number of inputs and for user Functions: returns (out, fargs, record)."""
    record = False
    if _grad_state.enabled:
        fargs = []
        edges = []
        needs = []
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                fargs.append(d)
                if a._requires_grad:
                    record = True
                    # why: a leaf is its own node in the graph (the engine accumulates into its .grad)
                    edges.append((a.grad_fn or a, a._output_nr, d.shape, d.dtype, False))
                    needs.append(True)
                    continue
            else:
                fargs.append(a)
            edges.append(None)
            needs.append(False)
    else:
        fargs = [a._data if isinstance(a, Tensor) else a for a in args]
    if record:
        ctx._edges = edges
        ctx.needs_input_grad = tuple(needs)
    else:
        ctx.needs_input_grad = _FALSES[len(args)]
    if cls._array_forward:
        try:
            out = cls.forward(ctx, *fargs)
        except ValueError as e:
            raise _forward_error(cls, e, args) from None
    else:
        out = _user_forward(cls, ctx, args)
    return out, fargs, record


def _user_forward(cls, ctx, args):
    """Run a user Function's forward with recording off (its Tensor ops are not part of the graph)."""
    prev = _grad_state.enabled
    _grad_state.enabled = False
    try:
        return cls.forward(ctx, *args)
    except ValueError as e:
        raise _forward_error(cls, e, args) from None
    finally:
        _grad_state.enabled = prev


def _forward_error(cls, e, args):
    """NumPy's broadcast error turned into one naming the op and the shapes; other errors unchanged."""
    msg = str(e)
    if "broadcast" in msg and "operands" in msg:
        return ValueError(broadcast_message(cls.__name__.lower(), [getattr(a, "shape", ()) for a in args]))
    return e


def broadcast_message(op, shapes):
    """Explain why shapes don't broadcast: each shape right-aligned, the clashing dimension named."""
    shapes = [tuple(s) for s in shapes]
    texts = [str(s) if len(s) != 1 else f"({s[0]},)" for s in shapes]
    width = max(len(t) for t in texts)
    lines = [f"{op}: shapes cannot be broadcast together (aligned from the right):"]
    lines += ["    " + t.rjust(width) for t in texts]
    n = max(len(s) for s in shapes)
    for k in range(1, n + 1):
        dims = {s[-k] for s in shapes if len(s) >= k} - {1}
        if len(dims) > 1:
            lines.append(f"  dimension {-k}: sizes {' vs '.join(str(s[-k]) for s in shapes if len(s) >= k)} "
                         f"differ and none is 1")
            break
    return "\n".join(lines)


def _wrap_outputs(out, ctx, record):
    """Turn forward's array/Tensor result(s) into Tensors; link them to ctx when recording."""
    if isinstance(out, tuple):
        outs = tuple(_wrap_one(o, ctx, record, i) for i, o in enumerate(out))
        if record:
            ctx._n_outputs = len(outs)
            ctx._simple = len(outs) == 1
            if not ctx._simple:
                ctx._fast = None
            ctx._out_meta = [(o._data.shape, o._data.dtype) for o in outs]
        return outs
    return _wrap_one(out, ctx, record, 0)


def _wrap_one(o, ctx, record, nr):
    if isinstance(o, Tensor):
        t = o
    else:
        if type(o) is not xp.ndarray:
            o = xp.asarray(o)
        t = Tensor._make(o)
    if record and t._data.dtype.kind in "fc":
        if not any(t is n for n in ctx._non_diff):
            t._requires_grad = True
            t.grad_fn = ctx
            t._output_nr = nr
    return t


def _pack_saved(to_save, args, fargs, outs, raw):
    """ctx._saved for any op: the values as a tuple, or a _Saved listing the tensors among them.

    values holds arrays (what an ordinary backward gets); each tracked entry is
    (position, input Tensor or None for an output, version counter, version at save, output_nr, array).
    """
    single = type(outs) is not tuple
    values = []
    tracked = []
    pos = -1
    for item in to_save:
        pos += 1
        if item is None or item.__class__ in _PLAIN:
            values.append(item)  # a plain value (scalar, shape) kept as it is
            continue
        if single:
            # why: NumPy returns scalars, not 0-d arrays, from 0-d math; match the raw result too
            if item is raw or item is outs or item is outs._data:
                values.append(outs._data)
                tracked.append((pos, None, outs._vc, outs._vc[0], 0, outs._data))
                continue
        else:
            entry = _find_output(item, outs, raw, pos)
            if entry is not None:
                values.append(entry[5])
                tracked.append(entry)
                continue
        for a, fa in zip(args, fargs):
            if (item is fa or item is a) and isinstance(a, Tensor):
                values.append(a._data)
                tracked.append((pos, a, a._vc, a._vc[0], 0, a._data))
                break
        else:
            if isinstance(item, Tensor):
                values.append(item._data)
                tracked.append((pos, item, item._vc, item._vc[0], 0, item._data))
            else:
                # an array made inside forward (or passed in as a constant): a constant of the backward
                values.append(item)
    return _Saved(tuple(values), tracked) if tracked else tuple(values)


def _find_output(item, outs, raw, pos):
    """The tracked entry for item if it is one of several outputs, else None."""
    for i, o in enumerate(outs):
        if item is o._data or item is o or item is raw[i]:
            return (pos, None, o._vc, o._vc[0], i, o._data)
    return None


class AccumulateGrad:
    """The graph node of a leaf tensor: adds the incoming gradient into the leaf's `.grad`."""

    _fast = None
    _edges = ()
    _simple = True
    _stack = None
    _n_outputs = 1
    _pre_hooks = None

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        """'AccumulateGrad', as in PyTorch."""
        return "AccumulateGrad"

    @property
    def next_functions(self):
        """A leaf has no inputs."""
        return ()

    def __repr__(self):
        return "<AccumulateGrad>"


def _freed_message(node):
    return (f"{node.name()}: trying to backward through the graph a second time (or to read saved tensors "
            f"after they were freed). The first backward() frees the arrays each op saved, to keep memory "
            f"flat in training loops; pass retain_graph=True to the first backward() (or ag.grad) if you "
            f"need to go through the graph again.")


def _version_message(node, array, version, now):
    return (f"one of the tensors needed for gradient computation has been modified by an in-place operation: "
            f"{node.name()} saved a tensor of shape {tuple(array.shape)} at version {version}, and it is "
            f"now at version {now}. Use an out-of-place op (x = x + y instead of x += y), or clone() the "
            f"tensor before modifying it.")
