"""The backward pass, step by step: explain_backward prints it, backward_steps yields it one block at a time.

Both run the real `loss.backward()` under a trace observer and describe each node as the engine
executes it (a reverse topological order): the op, where the user's code created it, shapes, the
upstream gradient, the op's local derivative rule (its `formula`), the input gradients it returns,
every broadcast reduction and every accumulation into a tensor used more than once.
"""
import dataclasses
import os
import re
import sys

from .. import trace as _trace
from ..backend import xp
from ..graph import reduced_axes, sum_to_shape
from ..tensor import Tensor

NO_SITES = "(site not recorded: run the forward inside `with ag.viz.record():`)"
_GRAD_NAME = re.compile(r"\bgrad_(\w+)\s*=")


@dataclasses.dataclass
class InputGrad:
    """One gradient a step sends back: to which input, at which shape, and where it goes."""
    label: str                   # 'grad_a'; 'grad_in1' when the formula names no inputs
    shape: tuple                 # the shape the backward returned (the broadcast output shape)
    summary: str                 # the values the input receives (after any broadcast reduction)
    to: str = ""                 # 'leaf w0 (step 6)', 'n (step 2)', 'step 3'
    reduction: str = None        # 'sum over axis 0: (4, 3) → (3,)' when the gradient was summed back
    accumulation: str = None     # set when the receiving tensor already had a gradient from another use


@dataclasses.dataclass
class Step:
    """One block of the explanation: a Function node's backward, or a leaf receiving its gradient."""
    index: int                   # 1-based, in the engine's execution order
    op: str                      # 'MulBackward0', or 'AccumulateGrad' for a leaf
    name: str = None             # the caller's variable for the node's output / the leaf, when found
    site: tuple = None           # (file, line, source line) of the user's code, when recorded
    input_shapes: list = dataclasses.field(default_factory=list)    # [(label, shape)] per input needing grad
    output_shapes: list = dataclasses.field(default_factory=list)
    upstream_shape: tuple = ()
    upstream: str = ""           # summary of the gradient arriving at the output(s)
    upstream_from: str = ""      # 'the seed ...' or 'sum of 2 contributions (...)'
    formula: str = None
    input_grads: list = dataclasses.field(default_factory=list)     # [InputGrad]
    reductions: list = dataclasses.field(default_factory=list)      # ['input 1: sum over axis 0: (4, 3) → (3,)']
    accumulations: list = dataclasses.field(default_factory=list)   # one line per accumulation at this step
    stored: str = None           # for a leaf: how .grad was updated
    is_leaf: bool = False
    node: object = dataclasses.field(default=None, repr=False, compare=False)

    def __str__(self):
        return "\n".join(self._lines())

    def _lines(self):
        if self.is_leaf:
            title = f"leaf {self.name}" if self.name else "leaf"
            out = [f"step {self.index}  {title}  (AccumulateGrad)",
                   _row("shape", _shape(self.upstream_shape)),
                   _row("upstream", f"{self.upstream}{_paren(self.upstream_from)}"),
                   _row("stored", self.stored)]
            out.extend(_row("", a) for a in self.accumulations)
            return out
        title = f"step {self.index}  {self.op}" + (f"  (makes {self.name})" if self.name else "")
        out = [title]
        if self.site is not None:
            out.append(_row("created", f"{_where(self.site)}  {self.site[2]}".rstrip()))
        ins = ", ".join(f"{label} {_shape(s)}" for label, s in self.input_shapes)
        outs = ", ".join(_shape(s) for s in self.output_shapes)
        out.append(_row("shapes", f"{ins} → {outs}" if ins else f"→ {outs}"))
        out.append(_row("upstream", f"{self.upstream}{_paren(self.upstream_from)}"))
        out.append(_row("rule", self.formula or "(no formula: set `formula = \"grad_x = ...\"` on the Function)"))
        for g in self.input_grads:
            if g.reduction is None:
                out.append(_row(g.label, f"{_shape(g.shape)}: {g.summary}  → {g.to}"))
            else:
                out.append(_row(g.label, f"{_shape(g.shape)}"))
                out.append(_row("", f"{g.reduction}: {g.summary}  → {g.to}"))
            if g.accumulation:
                out.append(_row("", g.accumulation))
        return out


def _row(label, text):
    return f"  {label:<10}{text}"


def _paren(text):
    return f"   ({text})" if text else ""


def _shape(s):
    s = tuple(s)
    return f"({s[0]},)" if len(s) == 1 else str(s)


def _where(site):
    fname, line = site[0], site[1]
    try:
        rel = os.path.relpath(fname)
        if not rel.startswith(".."):
            fname = rel
    except ValueError:
        pass
    return f"{fname}:{line}"


def _num(v):
    v = float(v)
    return "0" if v == 0 else f"{v:.4g}"


def summarize(g):
    """A short text for a gradient: its values when few, else min / mean / max."""
    a = xp.asarray(g._data if isinstance(g, Tensor) else g)
    if a.dtype.kind == "c":
        return f"complex, |max| {_num(xp.abs(a).max())}" if a.size else "empty"
    if a.size == 0:
        return "empty"
    a = a.astype(xp.float64, copy=False)
    if a.size == 1:
        return _num(a.reshape(()))
    lo, hi = a.min(), a.max()
    if lo == hi:
        return f"all {_num(lo)}"
    if a.size <= 6:
        return "[" + ", ".join(_num(v) for v in a.ravel()) + "]"
    return f"min {_num(lo)}, mean {_num(a.mean())}, max {_num(hi)}"


def reduction_text(grad_shape, input_shape):
    """'sum over axis 0: (4, 3) → (3,)' for a broadcast gradient summed back to its input's shape."""
    axes = reduced_axes(grad_shape, input_shape)
    what = f"axis {axes[0]}" if len(axes) == 1 else "axes " + ", ".join(str(a) for a in axes)
    text = f"sum over {what}: {_shape(grad_shape)} → {_shape(input_shape)}"
    if not axes:
        text = f"reshape: {_shape(grad_shape)} → {_shape(input_shape)}"
    return text


def input_names(node):
    """Names for a node's inputs from its formula's 'grad_a = ...' parts, else 'in0', 'in1', ..."""
    edges = node._edges
    n = len(edges)
    names = _GRAD_NAME.findall(type(node).formula or "")
    if names and len(names) <= n:
        live = [i for i, e in enumerate(edges) if e is not None]
        # why: extra trailing inputs are options (Sum's axes); extra leading ones are conditions (Where's cond)
        for offset in (0, n - len(names)):
            if all(offset <= i < offset + len(names) for i in live):
                return [names[i - offset] if offset <= i < offset + len(names) else f"in{i}" for i in range(n)]
    return [f"in{i}" for i in range(n)]


def _input_label(label, name):
    return f"{label}={name}" if name and name != label else label


def caller_names(frame):
    """{id(obj): variable name} for the Tensors (by identity) and their grad_fn nodes in the caller's frames.

    The nearest frame wins, so a helper's local `x` names a tensor before its caller's does.
    """
    names = {}
    while frame is not None:
        for var, val in list(frame.f_locals.items()):
            if var.startswith("_") or not isinstance(val, Tensor):
                continue
            names.setdefault(id(val), var)
            if val.grad_fn is not None and val._output_nr == 0:
                names.setdefault(id(val.grad_fn), var)
        frame = frame.f_back
    return names


class _Recorder:
    """A trace observer that turns the reverse pass's events into Steps."""

    def __init__(self, names, root_name, forward_to=None, seeded=False):
        self.steps = []
        self.seeded = seeded             # the caller passed gradient= (the seed is not 1)
        self.names = names
        self.root_name = root_name
        self.forward_to = forward_to     # an observer that was already active (checked mode)
        self.contributions = {}          # (id(target), output_nr) -> [(step index, grad label)]
        self.step_of = {}                # id(node or leaf) -> Step
        self.targets = []                # (InputGrad, target) to resolve once every step is known
        self.any_site = False

    def node(self, node, grads, in_grads):
        if self.forward_to is not None:
            self.forward_to.node(node, grads, in_grads)
        step = Step(index=len(self.steps) + 1, op=node.name(), name=self.names.get(id(node)),
                    site=node._site, formula=type(node).formula, node=node)
        self.any_site = self.any_site or node._site is not None
        labels = input_names(node)
        step.input_shapes = [(_input_label(labels[i], self.names.get(id(e[0]))), e[2])
                             for i, e in enumerate(node._edges) if e is not None]
        if isinstance(grads, dict):
            meta = getattr(node, "_out_meta", None) or []
            step.output_shapes = [m[0] for m in meta] or [xp.shape(g) for g in grads.values()]
            step.upstream = "; ".join(f"output {nr} {_shape(xp.shape(g))}: {summarize(g)}"
                                      for nr, g in sorted(grads.items()))
            step.upstream_shape = tuple(step.output_shapes[0]) if step.output_shapes else ()
        else:
            shape = tuple(xp.shape(grads._data if isinstance(grads, Tensor) else grads))
            step.output_shapes = [shape]
            step.upstream_shape = shape
            step.upstream = f"{_shape(shape)}: {summarize(grads)}"
        step.upstream_from = self._arrivals(node, 0 if not isinstance(grads, dict) else None, first=not self.steps)
        for i, (e, g) in enumerate(zip(node._edges, in_grads)):
            if e is None or g is None:
                continue
            arr = g._data if isinstance(g, Tensor) else xp.asarray(g)
            shape = tuple(arr.shape)
            try:
                received = sum_to_shape(arr, tuple(e[2]))
            except RuntimeError:
                received = arr  # the engine raises its own error for this right after
            ig = InputGrad(label=f"grad_{labels[i]}", shape=shape, summary=summarize(received))
            step.input_grads.append(ig)
            self.targets.append((ig, e[0]))
            got = self.contributions.setdefault((id(e[0]), e[1]), [])
            got.append((step.index, ig.label))
            if len(got) > 1:
                ig.accumulation = self._accumulation_text(e[0], got)
                step.accumulations.append(ig.accumulation)
        self.steps.append(step)
        self.step_of[id(node)] = step

    def reduce(self, node, input_index, grad_shape, input_shape):
        if self.forward_to is not None:
            self.forward_to.reduce(node, input_index, grad_shape, input_shape)
        step = self.step_of.get(id(node))
        if step is None:
            return
        text = reduction_text(grad_shape, input_shape)
        label = f"grad_{input_names(node)[input_index]}"
        for ig in step.input_grads:
            if ig.label == label and ig.reduction is None:
                ig.reduction = text
                break
        step.reductions.append(f"{label}: {text}")

    def accumulate(self, target, output_nr):
        # why: node() already saw every gradient sent and to where, so it notes accumulations itself
        # (the same events, and independent of how the engine buffers a node's gradients)
        if self.forward_to is not None:
            self.forward_to.accumulate(target, output_nr)

    def _accumulation_text(self, target, got):
        earlier = ", ".join(f"step {s} {label}" for s, label in got[:-1])
        who = self.names.get(id(target))
        what = (f"leaf {who}" if who else "this leaf") if isinstance(target, Tensor) else (who or "this input")
        return f"accumulate: {what} is used more than once; added to the gradient it already got ({earlier})"

    def leaf(self, tensor, grad):
        if self.forward_to is not None:
            self.forward_to.leaf(tensor, grad)
        name = self.names.get(id(tensor))
        arr = grad._data if isinstance(grad, Tensor) else xp.asarray(grad)
        step = Step(index=len(self.steps) + 1, op="AccumulateGrad", name=name, is_leaf=True, node=tensor,
                    input_shapes=[("x", tuple(tensor.shape))], output_shapes=[tuple(tensor.shape)],
                    upstream_shape=tuple(arr.shape), upstream=f"{_shape(arr.shape)}: {summarize(arr)}",
                    formula="x.grad += grad")
        step.upstream_from = self._arrivals(tensor, 0, first=not self.steps)
        where = f"{name}.grad" if name else "its .grad"
        if tensor.grad is None:
            step.stored = f"{where} = {summarize(arr)}"
        else:
            step.stored = (f"{where} += upstream (it already held a gradient from an earlier backward: "
                           f"gradients accumulate until you zero them)")
        self.steps.append(step)
        self.step_of[id(tensor)] = step

    def _arrivals(self, target, nr, first):
        if first:
            if self.seeded:
                return "the seed: the `gradient` passed to backward"
            name = self.root_name or "output"
            return f"the seed: d {name} / d {name} = 1"
        if nr is None:  # a multi-output node: say it per output
            keys = sorted(k[1] for k in self.contributions if k[0] == id(target))
            parts = [(k, self._arrivals(target, k, False)) for k in keys]
            return "; ".join(f"output {k}: {text}" for k, text in parts if text)
        got = self.contributions.get((id(target), nr), [])
        if len(got) > 1:
            return f"sum of {len(got)} contributions: " + ", ".join(f"step {s} {label}" for s, label in got)
        return ""

    def finish(self):
        """Write where each gradient went, now that every step has its number."""
        for ig, target in self.targets:
            step = self.step_of.get(id(target))
            name = self.names.get(id(target))
            if isinstance(target, Tensor):
                who = f"leaf {name}" if name else "leaf"
            else:
                who = name or target.name()
            where = f"step {step.index}" if step is not None else "not reached"
            ig.to = f"{who} ({where})" if who else where
        return self.steps


def _collect(loss, gradient, retain_graph, frame):
    """Run loss.backward() under the recorder; return (steps, header lines, unreached nodes)."""
    if not isinstance(loss, Tensor):
        raise TypeError(f"explain_backward: expected a Tensor, got {type(loss).__name__}")
    if not loss.requires_grad:
        raise RuntimeError(f"explain_backward: the tensor (shape {loss.shape}) does not require grad, so there "
                           f"is no backward pass to explain; compute it from tensors with requires_grad=True")
    names = caller_names(frame)
    rec = _Recorder(names, names.get(id(loss)), forward_to=_trace.state.observer, seeded=gradient is not None)
    with _trace.observe(rec):
        loss.backward(gradient, retain_graph=retain_graph)
    steps = rec.finish()
    seen = {id(s.node) for s in steps}
    unreached = [n for n in _graph_nodes(loss) if id(n) not in seen]
    return steps, rec.any_site, unreached


def _graph_nodes(loss):
    """Every Function node and leaf reachable from loss (iteratively, each once)."""
    root = loss.grad_fn if loss.grad_fn is not None else loss
    found, stack, seen = [], [root], {id(root)}
    while stack:
        n = stack.pop()
        found.append(n)
        for e in n._edges:
            if e is not None and id(e[0]) not in seen:
                seen.add(id(e[0]))
                stack.append(e[0])
    return found


def _header(loss, steps, any_site, unreached):
    n_leaf = sum(s.is_leaf for s in steps)
    lines = [f"backward of a tensor of shape {_shape(loss.shape)}: {len(steps)} steps "
             f"({_count(len(steps) - n_leaf, 'op')}, {_count(n_leaf, 'leaf', 'leaves')}), "
             f"from the output back to the leaves"]
    if not any_site:
        lines.append(NO_SITES)
    if unreached:
        lines.append("no gradient reached: " + ", ".join(n.name() if not isinstance(n, Tensor)
                                                         else f"a leaf of shape {_shape(n.shape)}"
                                                         for n in unreached))
    return lines


def _count(n, one, many=None):
    return f"{n} {one if n == 1 else (many or one + 's')}"


def explain_backward(loss, gradient=None, retain_graph=None, file=None):
    """Run loss.backward() and print one block per node, in the order the engine runs them.

    Each block shows the op, where it was created (when the forward ran inside `ag.viz.record()`),
    input and output shapes, the upstream gradient, the op's local derivative rule, the input
    gradients it returns, broadcast reductions and accumulations. Gradients land in `.grad` as usual.
    """
    steps, any_site, unreached = _collect(loss, gradient, retain_graph, sys._getframe(1))
    out = file if file is not None else sys.stdout
    print("\n".join(_header(loss, steps, any_site, unreached)), file=out)
    for s in steps:
        print(file=out)
        print(s, file=out)


def backward_steps(loss, gradient=None, retain_graph=None):
    """Run loss.backward() now and return an iterator over its Steps (print one, `next`, print the next).

    The blocks are those explain_backward prints; each is a `Step` dataclass with the fields shown.
    """
    steps, _any_site, _unreached = _collect(loss, gradient, retain_graph, sys._getframe(1))
    return iter(steps)


__all__ = ["explain_backward", "backward_steps", "Step", "InputGrad"]
