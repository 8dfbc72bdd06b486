"""Plain-text rendering of the graph for terminals: one line per node, inputs first, shared nodes referenced."""
import os

from ..tensor import Tensor
from .draw import as_roots, grad_text, names_by_id, op_name, outputs, shape_text, values_text


def _topological(roots):
    """Nodes reachable from roots, each after all its inputs (an iterative post-order walk)."""
    order = []
    seen = set()
    stack = []
    for r in reversed(roots):
        start = r.grad_fn if r.grad_fn is not None else (r if r._requires_grad else None)
        if start is not None:
            stack.append((start, False))
    while stack:
        obj, done = stack.pop()
        if done:
            order.append(obj)
            continue
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        stack.append((obj, True))
        for e in reversed(obj._edges):
            if e is not None and id(e[0]) not in seen:
                stack.append((e[0], False))
    return order


def _tensor_info(t, show_values, show_grads):
    parts = []
    if show_values:
        parts.append("value " + values_text(t._data))
    if show_grads and t._grad is not None:
        parts.append("grad " + grad_text(t._grad._data))
    return parts


def to_text(*roots, show_values=True, show_grads=True, max_nodes=None, names=None):
    """The graph behind roots as text: one line per leaf and op, inputs before the ops that use them.

    Each line is `%k = ...`; an op lists its inputs by their `%k` (a shared input is written once and
    referred to), `·` for an input that needs no gradient, and `Σ axis ...` where a broadcast gradient
    was summed back. Values and gradients show for leaves, roots and (under ag.viz.record()) every op.
    max_nodes: show only the last max_nodes lines (those nearest the outputs).
    """
    roots = as_roots(roots, "to_text")
    names = names_by_id(names)
    order = _topological(roots)
    ref = {id(obj): f"%{i}" for i, obj in enumerate(order)}
    meta = {}  # id(node) -> {output_nr: (shape, dtype)} of its outputs, as their consumers saw them
    for obj in order:
        for e in obj._edges:
            if e is not None:
                meta.setdefault(id(e[0]), {}).setdefault(e[1], (e[2], e[3]))
    root_of = {}
    for r in roots:
        node = r.grad_fn if r.grad_fn is not None else r
        root_of.setdefault(id(node), []).append(r)

    heads, tails = [], []
    for obj in order:
        if isinstance(obj, Tensor):
            name = names.get(id(obj)) or obj._name
            head = f"{ref[id(obj)]} = leaf" + (f" {name}" if name else "")
            info = [f"{shape_text(obj.shape)} {obj.dtype}"] + _tensor_info(obj, show_values, show_grads)
        else:
            args = []
            reds = obj._reductions or {}
            for i, e in enumerate(obj._edges):
                if e is None:
                    args.append("·")
                    continue
                a = ref[id(e[0])] + (f"[{e[1]}]" if not isinstance(e[0], Tensor) and e[0]._n_outputs > 1 else "")
                if i in reds:
                    axes = reds[i][2]
                    a += f" Σ axis{'es' if len(axes) != 1 else ''} {', '.join(str(x) for x in axes)}"
                args.append(a)
            head = f"{ref[id(obj)]} = {op_name(obj)}({', '.join(args)})"
            outs = outputs(obj)
            info = []
            if outs:
                for k, o in enumerate(outs):
                    nm = names.get(id(o)) or o._name
                    pre = (f"[{k}] " if len(outs) > 1 else "") + (f"{nm} " if nm else "")
                    info.append(pre + f"{shape_text(o.shape)} {o.dtype}")
                    info += _tensor_info(o, show_values, show_grads)
            else:
                known = sorted(meta.get(id(obj), {}).items())
                info += [(f"[{nr}] " if obj._n_outputs > 1 else "") + f"{shape_text(s)} {d}" for nr, (s, d) in known]
                for r in root_of.get(id(obj), ()):
                    if not known:
                        info.append(f"{shape_text(r.shape)} {r.dtype}")
                    info += _tensor_info(r, show_values, show_grads)
            if obj._module:
                info.append("in " + ".".join(str(p) for p in obj._module))
            if obj._site is not None:
                info.append(f"@ {os.path.basename(obj._site[0])}:{obj._site[1]}")
        if id(obj) in root_of:
            info.append("<- output")
        heads.append(head)
        tails.append("  ".join(info))
    for r in roots:
        if r.grad_fn is None and not r._requires_grad:
            heads.append("constant")
            tails.append("  ".join([f"{shape_text(r.shape)} {r.dtype}"] + _tensor_info(r, show_values, show_grads)
                                   + ["<- output (not on a graph)"]))
    skipped = 0
    if max_nodes is not None and len(heads) > max_nodes:
        skipped = len(heads) - max_nodes
        heads, tails = heads[skipped:], tails[skipped:]
    width = min(max((len(h) for h in heads), default=0), 48)
    lines = [f"… {skipped} more (not shown)"] if skipped else []
    lines += [f"{h.ljust(width)}  {t}".rstrip() for h, t in zip(heads, tails)]
    return "\n".join(lines)


def print_graph(*roots, **kwargs):
    """Print to_text(*roots, **kwargs)."""
    print(to_text(*roots, **kwargs))


__all__ = ["to_text", "print_graph"]
