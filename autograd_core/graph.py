"""The reverse pass: topological order without recursion, gradient accumulation, broadcast undoing.

This is the one place where a gradient computed at an op's (broadcast) output shape is summed back
to each input's shape, where hooks run, where `.grad` is accumulated and where saved arrays are
freed. During an ordinary backward the gradients travelling through the graph are plain arrays;
with `create_graph=True` they are Tensors, and every step here is itself recorded.
"""
from heapq import heapify, heappop, heappush, heappushpop

from . import anomaly as _anomaly
from . import trace as _trace_mod
from .backend import xp
from .function import _FREED, Function, _engine, _freed_message
from .grad_mode import _state as _grad_state

_ndarray = xp.ndarray
_anomaly_state = _anomaly._state
_trace = _trace_mod.state

Tensor = None  # bound by tensor.py


def _bind_tensor(cls):
    global Tensor
    Tensor = cls


def _root_edge(t, what):
    """The (node, output_nr) a root tensor's gradient enters the graph at."""
    if not t._requires_grad:
        raise RuntimeError(f"{what}: element 0 of tensors does not require grad and does not have a grad_fn "
                           f"(shape {t.shape}); call requires_grad_() on a leaf or check for no_grad / detach")
    if t.grad_fn is not None:
        return t.grad_fn, t._output_nr
    return t, 0


def _topological_order(roots):
    """Count, for every node reachable from roots, how many edges point at it (iteratively)."""
    deps = {}
    stack = list(roots)
    get = deps.get
    push = stack.append
    while stack:
        node = stack.pop()
        for e in node._edges:
            if e is not None:
                nxt = e[0]
                c = get(nxt)
                if c is None:
                    deps[nxt] = 1
                    push(nxt)
                else:
                    deps[nxt] = c + 1
    reachable = set(deps)
    reachable.update(roots)
    return deps, reachable


def _needed_nodes(all_nodes, targets):
    """The nodes with a path to some target node (ag.grad only runs those)."""
    # why: reverse the edges once, then walk back from the targets; no recursion
    parents = {}
    for node in all_nodes:
        for e in node._edges:
            if e is not None:
                parents.setdefault(e[0], []).append(node)
    needed = set(t for t in targets if t in all_nodes)
    stack = list(needed)
    while stack:
        n = stack.pop()
        for p in parents.get(n, ()):
            if p not in needed:
                needed.add(p)
                stack.append(p)
    return needed


def sum_to_shape(grad, shape, node=None):
    """Sum a gradient computed at a broadcast shape back down to `shape` (undoing broadcasting)."""
    gshape = grad.shape
    if gshape == shape:
        return grad
    lead = len(gshape) - len(shape)
    if lead < 0 or any(s != 1 and s != g for s, g in zip(shape, gshape[lead:])):
        who = node.name() if node is not None else "backward"
        raise RuntimeError(f"{who}: returned a gradient of shape {tuple(gshape)} for an input of shape "
                           f"{tuple(shape)}; the shapes are not broadcast-compatible")
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and gshape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True) if not lead else grad.sum(axis=axes)
    if grad.shape != shape:
        grad = grad.reshape(shape)
    return grad


def _as_graph_value(g, create_graph):
    """Gradients travel as arrays in an ordinary backward and as Tensors under create_graph."""
    if create_graph:
        return g if isinstance(g, Tensor) else Tensor._make(xp.asarray(g))
    if isinstance(g, Tensor):
        return g._data
    return g


def _owned(g, seen_arrays):
    """Return an array the caller may keep and later modify in place (copy only when needed)."""
    if type(g) is not xp.ndarray:
        return xp.array(g)
    if not g.flags.writeable or not g.flags.owndata or id(g) in seen_arrays:
        g = g.copy()
    seen_arrays.add(id(g))
    return g


def _call_hooks(hooks, g, create_graph):
    """Run tensor hooks: each gets the gradient as a Tensor and may return a replacement."""
    tg = g if isinstance(g, Tensor) else Tensor._make(xp.asarray(g))
    for hook in hooks:
        r = hook(tg)
        if r is not None:
            tg = r if isinstance(r, Tensor) else Tensor._make(xp.asarray(r))
    return tg if create_graph else tg._data


def _accumulate_leaf(leaf, g, create_graph, seen_arrays):
    """Add g into the leaf's .grad (in place when the buffer is ours)."""
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
        return
    if leaf.grad is None:
        leaf.grad = Tensor._make(_owned(g, seen_arrays))
        return
    buf = leaf.grad._data
    if leaf.grad.grad_fn is None and buf.flags.writeable and buf.shape == g.shape:
        buf += g
        leaf.grad._vc[0] += 1
    else:
        leaf.grad = Tensor._make(buf + g) if leaf.grad.grad_fn is None else leaf.grad + g


def _add_grad(buffers, node, nr, g):
    """Add g to what node's output nr has received so far (single-output nodes hold it bare)."""
    if node._n_outputs == 1:
        prev = buffers.get(node)
        buffers[node] = g if prev is None else prev + g
    else:
        slot = buffers.get(node)
        if slot is None:
            buffers[node] = {nr: g}
        else:
            slot[nr] = g if nr not in slot else slot[nr] + g


def run_backward(roots, grad_roots, retain_graph, create_graph, inputs=None, allow_unused=False, what="backward"):
    """Run the reverse pass from roots; accumulate into leaves' .grad, or return grads of `inputs`."""
    root_edges = [_root_edge(t, what) for t in roots]
    root_nodes = []
    for (node, _nr) in root_edges:
        if node not in root_nodes:
            root_nodes.append(node)
    check = _anomaly_state.enabled
    obs = _trace.observer  # ag.viz's explainer or checked mode; None in ordinary training
    # why: an ordinary backward() orders nodes by creation (a heap), with no dependency-counting pass
    plain = inputs is None and obs is None and not check and not create_graph
    deps = reachable = None
    if not plain:
        deps, reachable = _topological_order(root_nodes)

    capture = None
    needed = None
    if inputs is not None:
        capture = {}
        targets = []
        for i, t in enumerate(inputs):
            if not isinstance(t, Tensor) or not t._requires_grad:
                raise RuntimeError(f"{what}: input {i} does not require grad")
            key = (t.grad_fn, t._output_nr) if t.grad_fn is not None else (t, 0)
            capture.setdefault(key[0], {}).setdefault(key[1], []).append(i)
            targets.append(key[0])
        needed = _needed_nodes(reachable, targets)
        deps = {}
        for node in needed:
            for e in node._edges:
                if e is not None and e[0] in needed:
                    deps[e[0]] = deps.get(e[0], 0) + 1

    buffers = {}
    # why: arrays the caller owns (their gradient= values) must be copied, not adopted, by .grad
    seen_arrays = set()
    for (node, nr), g in zip(root_edges, grad_roots):
        g = _as_graph_value(g, create_graph)
        seen_arrays.add(id(g))
        _add_grad(buffers, node, nr, g)

    results = [None] * len(inputs) if inputs is not None else None
    ready = root_nodes if plain else [n for n in root_nodes if deps.get(n, 0) == 0 and (needed is None or n in needed)]
    prev_mode = _grad_state.enabled
    prev_engine = _engine.create_graph
    _grad_state.enabled = _engine.create_graph = bool(create_graph)
    # why: edge-of-domain math in backward formulas gives IEEE results quietly, as in forward
    errstate = xp.errstate(all="ignore")
    errstate.__enter__()
    try:
        if plain:
            _plain_pass(root_nodes, buffers, retain_graph, seen_arrays)
        else:
            p = _Pass(buffers, deps, ready, needed, capture, results, create_graph, retain_graph,
                      seen_arrays, obs, check)
            pop = ready.pop
            while ready:
                node = pop()
                _step(p, node, buffers.pop(node, None))
    finally:
        _grad_state.enabled = prev_mode
        _engine.create_graph = prev_engine
        errstate.__exit__(None, None, None)
    if inputs is not None:
        for i, r in enumerate(results):
            if r is None:
                if not allow_unused:
                    raise RuntimeError(f"{what}: input {i} (shape {inputs[i].shape}) was not used to compute the "
                                       f"outputs; pass allow_unused=True to get None for it")
                continue
            results[i] = r if isinstance(r, Tensor) else Tensor._make(_owned(r, seen_arrays))
        return tuple(results)
    return None


class _Pass:
    """The state of one reverse pass, for the general per-node step (_step)."""

    __slots__ = ("buffers", "deps", "ready", "needed", "capture", "results", "create_graph", "retain_graph",
                 "seen_arrays", "obs", "check")

    def __init__(self, buffers, deps, ready, needed, capture, results, create_graph, retain_graph,
                 seen_arrays, obs, check):
        self.buffers, self.deps, self.ready, self.needed = buffers, deps, ready, needed
        self.capture, self.results, self.create_graph, self.retain_graph = capture, results, create_graph, retain_graph
        self.seen_arrays, self.obs, self.check = seen_arrays, obs, check


def _plain_pass(roots, buffers, retain_graph, seen_arrays):
    """The reverse pass of an ordinary backward(): arrays only, no capture, observer or anomaly checks.

    Order: every recorded node carries a creation number (`_seq`, counting down), and a node's
    consumers were all created after it, so popping the most recent node from a heap of those that
    received a gradient always finds one whose gradient is complete -- no dependency-counting pass
    over the graph first. Leaves have no inputs and are accumulated last.
    why: this loop is the engine's hot path (every training step); nodes with a `_fast` backward (array
    primitives with one output, no hooks, not views, not yet freed) run inline here, any other node
    goes through the general step.
    """
    heap = []
    leaves = []
    for node in roots:
        if isinstance(node, Tensor):
            leaves.append(node)
        else:
            heap.append((node._seq, node))
    heapify(heap)
    p = _Pass(buffers, None, None, None, None, None, False, retain_graph, seen_arrays, None, False)
    bpop, bget = buffers.pop, buffers.get
    node = heappop(heap)[1] if heap else None
    while node is not None:
        grads = bpop(node)
        fast = node._fast
        if fast is not None:
            in_grads = fast(node, grads)
        else:
            in_grads = _node_backward(p, node, grads)
        if type(in_grads) is not tuple:
            in_grads = (in_grads,)
        new = None  # the newest node this one reached first (kept off the heap: often the next to run)
        i = -1
        for e in node._edges:
            i += 1
            if e is None:
                continue
            g = in_grads[i]
            if g is None:
                continue
            nxt = e[0]
            if type(g) is not _ndarray:
                g = _as_graph_value(g, False)
            if not e[4]:  # an exact edge (Function._elementwise) needs neither check
                if g.shape != e[2]:
                    _note_reduction(node, e, g.shape, e[2], None)
                    g = sum_to_shape(g, e[2], node)
                if g.dtype is not e[3] and g.dtype != e[3]:
                    g = g.astype(e[3])
            if nxt._simple:
                prev = bget(nxt)
                if prev is not None:
                    buffers[nxt] = prev + g
                    continue
                buffers[nxt] = g
            else:
                first = nxt not in buffers
                _add_grad(buffers, nxt, e[1], g)
                if not first:
                    continue
            # the first gradient to reach nxt: it joins the pending nodes (or the leaves)
            seq = nxt._seq
            if seq is None:
                leaves.append(nxt)
            elif new is None:
                new = (seq, nxt)
            elif seq < new[0]:
                heappush(heap, new)
                new = (seq, nxt)
            else:
                heappush(heap, (seq, nxt))
        if not retain_graph:
            # why: one store frees what the node saved; a later backward through it raises when its
            # formula reads saved_tensors (a node that saved nothing can run again, as in PyTorch)
            node._saved = _FREED
        # the newest pending node runs next; heappushpop hands `new` straight back when it is newer
        # than everything on the heap (a chain of ops), without touching the heap
        if new is not None:
            node = heappushpop(heap, new)[1]
        else:
            node = heappop(heap)[1] if heap else None
    for leaf in leaves:
        _step(p, leaf, bpop(leaf))


def _node_backward(p, node, grads):
    """Call a (non-leaf) node's backward in full generality: freed/stale checks, hooks, several outputs."""
    create_graph = p.create_graph
    if node._saved is _FREED:
        raise RuntimeError(_freed_message(node))
    if node._is_view and node._view_vc[0] != node._view_version:
        raise RuntimeError(_stale_view_message(node))
    if node._array_forward and not create_graph:
        if node._simple:
            return node.backward(node, grads)
        return node.backward(node, *_output_grads(node, grads, create_graph, p.seen_arrays))
    glist = (grads,) if node._simple else _output_grads(node, grads, create_graph, p.seen_arrays)
    return _call_tensor_backward(node, glist)


def _step(p, node, grads):
    """Process one node of the reverse pass in full generality: leaves, hooks, capture, create_graph."""
    buffers, create_graph, obs, needed = p.buffers, p.create_graph, p.obs, p.needed
    if grads is None:
        # nothing flowed here (every path in gave None): just release the children
        _release_children(node, p.deps, p.ready, needed)
        return
    capture = p.capture
    if capture is not None and node in capture:
        _capture(node, grads, capture[node], p.results, create_graph)
        if isinstance(node, Tensor):
            return
    if isinstance(node, Tensor):
        if obs is not None:
            obs.leaf(node, grads)
        if capture is None:
            hooks = node._hooks
            _accumulate_leaf(node, _call_hooks(hooks, grads, create_graph) if hooks else grads,
                             create_graph, p.seen_arrays)
        return
    in_grads = _node_backward(p, node, grads)
    if type(in_grads) is not tuple:
        in_grads = (in_grads,)
    if obs is not None:
        obs.node(node, grads, in_grads)
    deps, push, check = p.deps, p.ready.append, p.check
    for e, g in zip(node._edges, in_grads):
        if e is None:
            continue
        nxt, nr, shape, dtype, _exact = e
        if needed is not None and nxt not in needed:
            continue
        if g is not None:
            if create_graph or type(g) is not _ndarray:
                g = _as_graph_value(g, create_graph)
            if g.shape != shape:
                _note_reduction(node, e, g.shape, shape, obs)
                g = sum_to_shape(g, shape, node)
            if g.dtype is not dtype and g.dtype != dtype:
                g = g.astype(dtype)
            if check:
                _anomaly.check_backward(node, g)
            if obs is not None and (nxt in buffers if nxt._n_outputs == 1 else nr in buffers.get(nxt, ())):
                obs.accumulate(nxt, nr)
            _add_grad(buffers, nxt, nr, g)
        d = deps[nxt] - 1
        deps[nxt] = d
        if d == 0:
            push(nxt)
    if not p.retain_graph:
        node._saved = _FREED


def _capture(node, grads, wanted, results, create_graph):
    """Store the gradient arriving at a tensor that ag.grad asked for (after its hooks)."""
    for nr, idxs in wanted.items():
        g = grads if node._n_outputs == 1 else grads.get(nr)
        if g is None:
            continue
        hooks = node._hooks if isinstance(node, Tensor) else (node._pre_hooks or {}).get(nr)
        if hooks:
            g = _call_hooks(hooks, g, create_graph)
        for i in idxs:
            results[i] = g


def _release_children(node, deps, ready, needed):
    for e in node._edges:
        if e is None or (needed is not None and e[0] not in needed):
            continue
        nxt = e[0]
        deps[nxt] -= 1
        if deps[nxt] == 0:
            ready.append(nxt)


def _output_grads(node, grads, create_graph, seen_arrays):
    """Apply tensor hooks and retain_grad, and list one gradient per output (zeros where none came)."""
    single = node._n_outputs == 1
    if single:
        grads = {0: grads}
    pre = node._pre_hooks
    if pre:
        for nr, hooks in pre.items():
            if nr in grads and hooks:
                grads[nr] = _call_hooks(hooks, grads[nr], create_graph)
    retain = node._retain
    if retain:
        for nr, ref in retain.items():
            t = ref()
            if t is not None and nr in grads:
                g = grads[nr]
                if create_graph:
                    t.grad = g if t.grad is None else t.grad + g
                else:
                    t.grad = Tensor._make(_owned(g, seen_arrays) if t.grad is None else t.grad._data + g)
    if single:
        return [grads[0]]
    glist = []
    for i in range(node._n_outputs):
        g = grads.get(i)
        if g is None:
            shape, dtype = node._out_meta[i]
            g = xp.zeros(shape, dtype)
        glist.append(g)
    return glist


def _note_reduction(node, edge, from_shape, to_shape, obs):
    """Remember (for drawings) and report (to an observer) a broadcast gradient summed back."""
    i = _edge_index(node, edge)
    if node._reductions is None:
        node._reductions = {}
    node._reductions[i] = (tuple(from_shape), tuple(to_shape), reduced_axes(from_shape, to_shape))
    if obs is not None:
        obs.reduce(node, i, tuple(from_shape), tuple(to_shape))


def reduced_axes(from_shape, to_shape):
    """The axes of from_shape that sum_to_shape sums over to reach to_shape."""
    lead = len(from_shape) - len(to_shape)
    return tuple(range(lead)) + tuple(lead + i for i, s in enumerate(to_shape)
                                      if s == 1 and from_shape[lead + i] != 1)


def _edge_index(node, edge):
    """Which forward input an edge belongs to (by identity)."""
    for i, e in enumerate(node._edges):
        if e is edge:
            return i
    return -1


def _stale_view_message(node):
    return (f"{node.name()}: the tensor this view was taken from was modified in place after the view was made "
            f"(version {node._view_version} -> {node._view_vc[0]}), so gradients through the view would be "
            f"wrong; take the view after the in-place op, or clone() it before")


def _call_tensor_backward(node, glist):
    """Call backward with Tensor gradients (user Functions, and every node under create_graph)."""
    glist = [g if isinstance(g, Tensor) else Tensor._make(xp.asarray(g)) for g in glist]
    try:
        in_grads = node.backward(node, *glist)
    except RuntimeError:
        raise
    except Exception as e:
        if node._stack is not None:
            raise RuntimeError(f"{node.name()}: backward failed ({e}); the op was created at:\n"
                               + "".join(node._stack.format()[-3:])) from e
        raise
    n_in = len(in_grads) if type(in_grads) is tuple else 1
    if n_in != len(node._edges):
        raise RuntimeError(f"{node.name()}: backward returned {n_in} gradients but forward had "
                           f"{len(node._edges)} inputs")
    return in_grads


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Compute gradients of tensors w.r.t. graph leaves and accumulate them into `.grad`."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    tensors = tuple(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    grads = [_initial_grad(t, g, "backward") for t, g in zip(tensors, grad_tensors)]
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        got = run_backward(tensors, grads, retain_graph, create_graph, inputs, allow_unused=True)
        for t, g in zip(inputs, got):
            if g is not None:
                t.grad = g if t.grad is None else t.grad + g
        return
    run_backward(tensors, grads, retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False):
    """Return the gradients of outputs w.r.t. inputs without touching any `.grad`."""
    single = isinstance(outputs, Tensor)
    outputs = (outputs,) if single else tuple(outputs)
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,) * len(outputs) if grad_outputs is None else (grad_outputs,)
    grads = [_initial_grad(t, g, "grad") for t, g in zip(outputs, grad_outputs)]
    if retain_graph is None:
        retain_graph = create_graph
    return run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, what="grad")


def _initial_grad(t, g, what):
    """The gradient a root starts with: ones for a scalar, else the user's `gradient`."""
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected Tensors as outputs, got {type(t).__name__}")
    if g is None:
        if t._data.size != 1:
            raise RuntimeError(f"{what}: grad can be implicitly created only for scalar outputs, but the output "
                               f"has shape {t.shape}; pass gradient= (a tensor of that shape), or reduce it "
                               f"first, e.g. loss.sum().backward()")
        return Tensor._make(xp.ones(t._data.shape, t._data.dtype))
    if not isinstance(g, Tensor):
        g = Tensor._make(xp.asarray(g, dtype=t._data.dtype))
    if g.shape != t.shape:
        raise RuntimeError(f"{what}: gradient has shape {g.shape} but the output has shape {t.shape}; "
                           f"they must match")
    return g


__all__ = ["backward", "grad", "run_backward", "sum_to_shape", "Function"]
