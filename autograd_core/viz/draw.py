"""Graph drawings: draw_graph builds a graphviz.Digraph of the recorded graph, save renders it, record() keeps values.

What a drawing shows comes from the graph itself: leaves (tensors with requires_grad and no
grad_fn) carry their value and `.grad`, the roots are known, and each edge knows the shape and
dtype of the tensor it carries. Inside `record()` every op also keeps its output tensor (with
retain_grad), its creation site and its module path, so intermediate values and gradients show too.
"""
import contextlib
import math
import os
import shutil
from collections import deque

import graphviz
import numpy as np

from .. import trace as _trace
from ..tensor import Tensor

_FULL = 8  # a tensor with at most this many elements is shown in full, otherwise min/mean/max

# Fill colours by ||grad|| / ||value|| (log scale): (upper bound, fill, font colour, legend text).
# why: a diverging blue-white-red scale (ColorBrewer RdBu) makes both ends stand out at a glance
_SCALE = (
    (1e-7, "#2166ac", "white", "< 1e-7 or 0   vanishing"),
    (1e-5, "#67a9cf", "black", "1e-7 .. 1e-5"),
    (1e-3, "#d1e5f0", "black", "1e-5 .. 1e-3"),
    (1e1, "#f7f7f7", "black", "1e-3 .. 10   normal"),
    (1e3, "#fddbc7", "black", "10 .. 1e3"),
    (1e5, "#ef8a62", "black", "1e3 .. 1e5"),
    (math.inf, "#b2182b", "white", "> 1e5   exploding"),
)
_NONFINITE = ("#e7298a", "white", "nan or inf")
_NO_GRAD = "white"
_MODULE_FILL = "#fff7bc"
_REDUCE_COLOR = "#e08214"

INSTALL_HINT = ("install the Graphviz programs: `apt-get install graphviz` (Debian/Ubuntu), "
                "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`")


class GraphvizNotFoundError(RuntimeError):
    """Raised by save() when Graphviz's `dot` program is missing; `.graph` holds the Digraph (its `.source`)."""

    def __init__(self, message, graph):
        super().__init__(message)
        self.graph = graph


# ---- formatting ------------------------------------------------------------------------------
def _num(v):
    return f"{v:.4g}"


def _array(t):
    """The NumPy array behind a Tensor (or None)."""
    return None if t is None else t._data


def values_text(a):
    """A short text for an array: scalars and tiny arrays in full, otherwise min/mean/max."""
    if a.size == 1 and a.ndim == 0:
        v = a.item()
        return _num(v) if isinstance(v, float) else str(v)
    if a.size == 0:
        return "[]"
    if a.size <= _FULL:
        if a.ndim == 1 and a.dtype.kind == "f":
            return "[" + ", ".join([f"{v:.4g}" for v in a.tolist()]) + "]"
        return _nested(a.tolist())
    if a.dtype.kind == "c":
        a = np.abs(a)
    if a.dtype.kind == "b":
        return f"{int(a.sum())} of {a.size} true"
    return f"min {_num(float(a.min()))} mean {_num(float(a.mean()))} max {_num(float(a.max()))}"


def _nested(v):
    """'[[1, 2], [3, 4]]' for nested lists of numbers (np.array2string is ~10x slower on tiny arrays)."""
    if isinstance(v, list):
        return "[" + ", ".join(_nested(x) for x in v) + "]"
    return _num(v) if isinstance(v, float) else str(v)


def grad_text(g):
    """values_text for a gradient, plus its norm when it has more than one element."""
    text = values_text(g)
    if g.size > 1:
        text += f"  |g| {_num(_norm(g))}"
    return text


def _norm(a):
    if a.size <= _FULL and a.dtype.kind in "fiu":
        return math.hypot(*a.ravel().tolist())
    return float(np.linalg.norm(a.ravel().astype(np.float64, copy=False)))


def grad_ratio(value, grad, gn=None):
    """||grad|| / ||value|| (a tensor whose values are all zero is compared with 1); None without a grad."""
    if grad is None or grad.dtype.kind not in "fc":
        return None
    if gn is None:
        gn = _norm(grad)
    if not math.isfinite(gn):
        return math.nan
    vn = _norm(value) if value is not None else 0.0
    return gn / vn if vn > 0 and math.isfinite(vn) else gn


def grad_color(ratio):
    """(fill, font colour) for a ratio from grad_ratio (None: no gradient)."""
    if ratio is None:
        return _NO_GRAD, "black"
    if math.isnan(ratio):
        return _NONFINITE[:2]
    for bound, fill, font, _ in _SCALE:
        if ratio < bound:
            return fill, font
    return _SCALE[-1][1:3]


def shape_text(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def tensor_lines(t, name, show_values, show_grads):
    """Label lines for a tensor (name, shape and dtype, value, gradient) and its fill colours."""
    lines = [name] if name else []
    data = t._data
    lines.append(f"{shape_text(data.shape)} {data.dtype}")
    if show_values:
        lines.append("value " + values_text(data))
    fill, font = _NO_GRAD, "black"
    if show_grads:
        g = _array(t._grad)
        if g is not None:
            lines.append("grad " + values_text(g))
            gn = _norm(g)
            if g.size > 1:
                lines.append(f"|grad| {_num(gn)}")
            fill, font = grad_color(grad_ratio(data, g, gn))
    return lines, fill, font


def _esc(s):
    s = str(s)
    if "\\" not in s and '"' not in s and "\n" not in s:
        return s
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _label(lines):
    return '"' + "\\n".join(_esc(x) for x in lines) + '"'


def _html(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


# ---- the graph ---------------------------------------------------------------------------------
def as_roots(roots, what="draw_graph"):
    """Flatten (t,), (t1, t2) or ([t1, t2],) into a tuple of Tensors."""
    if len(roots) == 1 and isinstance(roots[0], (list, tuple)):
        roots = tuple(roots[0])
    if not roots:
        raise ValueError(f"{what}: give at least one tensor to draw")
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"{what}: expected Tensors as roots, got {type(r).__name__}")
    return roots


def collect(roots):
    """Every node reachable from roots (Function nodes and leaf tensors), breadth first from the outputs.

    Iterative, so depth is not limited by Python's recursion limit.
    """
    order = []
    seen = set()
    queue = deque()
    for r in roots:
        start = r.grad_fn if r.grad_fn is not None else (r if r._requires_grad else None)
        if start is not None and id(start) not in seen:
            seen.add(id(start))
            queue.append(start)
    while queue:
        obj = queue.popleft()
        order.append(obj)
        for e in obj._edges:
            if e is not None and id(e[0]) not in seen:
                seen.add(id(e[0]))
                queue.append(e[0])
    return order


def names_by_id(names):
    """{id(tensor): name} from a {name: tensor} mapping or (name, tensor) pairs."""
    if names is None:
        return {}
    items = names.items() if hasattr(names, "items") else names
    return {id(t): str(n) for n, t in items}


def op_name(node):
    md = node.__dict__.get("_metadata")
    return md["name"] if md and "name" in md else node.name()


def outputs(node):
    """The output tensors a node kept under record(), as a tuple (empty when not recorded)."""
    out = node._out
    if out is None:
        return ()
    return out if type(out) is tuple else (out,)


def reduction_text(red):
    """'Σ axis 0' for a broadcast gradient summed back: red is (grad shape, input shape, axes)."""
    grad_shape, in_shape, axes = red
    which = "axis " if len(axes) == 1 else "axes "
    return f"Σ {which}{', '.join(str(a) for a in axes)}  {shape_text(grad_shape)}→{shape_text(in_shape)}"


def _op_lines(node, names, show_values, show_grads):
    """Label lines and fill for an op node: its name, and under record() its output's value and grad."""
    lines = [op_name(node)]
    fill, font = _NO_GRAD, "black"
    outs = outputs(node)
    for k, o in enumerate(outs):
        name = names.get(id(o)) or o._name
        if len(outs) > 1:
            name = f"[{k}] {name}" if name else f"[{k}]"
        tl, f, fo = tensor_lines(o, name, show_values, show_grads)
        lines += tl
        if k == 0:
            fill, font = f, fo
    site = node._site
    if site is not None:
        lines.append(f"{os.path.basename(site[0])}:{site[1]}")
    return lines, fill, font


def _legend():
    rows = ['<TR><TD COLSPAN="2"><B>|grad| / |value|</B></TD></TR>']
    for _, fill, _, text in _SCALE:
        rows.append(f'<TR><TD BGCOLOR="{fill}" WIDTH="18"></TD><TD ALIGN="LEFT">{_html(text)}</TD></TR>')
    rows.append(f'<TR><TD BGCOLOR="{_NONFINITE[0]}"></TD><TD ALIGN="LEFT">{_NONFINITE[2]}</TD></TR>')
    rows.append(f'<TR><TD BGCOLOR="{_NO_GRAD}"></TD><TD ALIGN="LEFT">no gradient known</TD></TR>')
    rows.append(f'<TR><TD><FONT COLOR="{_REDUCE_COLOR}">Σ ax</FONT></TD>'
                f'<TD ALIGN="LEFT">broadcast gradient summed over axes</TD></TR>')
    table = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="3">' + "".join(rows) + "</TABLE>"
    return ('\tsubgraph cluster_legend {\n\t\tlabel="legend" fontsize=10 style=dashed color=gray\n'
            f'\t\tlegend [shape=plaintext label=<{table}>]\n\t}}\n')


def _common(a, b):
    """The longest common prefix of two module paths."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]


def _module_key(path, collapse):
    depth = len(path) if collapse is True else min(int(collapse), len(path))
    return path[:depth]


def draw_graph(*roots, show_values=True, show_grads=True, names=None, group_by_module=False,
               collapse=False, max_nodes=None, rankdir="LR"):
    """Draw the graph behind `roots` as a graphviz.Digraph (shows inline in Jupyter; `.source` is the DOT).

    Tensor nodes (boxes) show name, shape, dtype, value and, after a backward, the gradient, filled
    by |grad|/|value| on a log scale (blue: vanishing, red: exploding; see the legend). Op nodes
    (ellipses) show the op's name, and under `record()` their output's value and gradient. Edges
    follow the data; an edge whose broadcast gradient was summed back is orange and names the axes.

    names: {name: tensor} (e.g. dict(model.named_parameters())) to label parameters.
    group_by_module: draw each module call (trace.module_scope) as a labelled cluster.
    collapse: one node per module call (True: innermost module; an int: modules to that depth).
    max_nodes: draw at most this many nodes, the rest summarised as one "… N more" node.
    """
    roots = as_roots(roots)
    if max_nodes is not None and max_nodes < 2:
        raise ValueError(f"draw_graph: max_nodes must be at least 2 (one node and the '… more' node), "
                         f"got {max_nodes}")
    names = names_by_id(names)
    order = collect(roots)

    # units: what gets one drawn node -- a root tensor, a leaf, an op, or a collapsed module
    unit_of = {}        # id(obj) -> unit key
    units = []          # unit keys in drawing order (roots first, then breadth first)
    unit_members = {}   # unit key -> number of ops (for collapsed modules)
    root_units = []
    for r in roots:
        if r.grad_fn is None and r._requires_grad:
            continue  # a leaf root is drawn as its leaf
        key = ("root", id(r))
        if key not in unit_members:
            unit_members[key] = 0
            units.append(key)
            root_units.append((key, r))
    leaf_home, leaf_unit = {}, {}
    if group_by_module or collapse:
        # a leaf (a parameter) belongs to the module its consumers share: drawn in that cluster,
        # or merged into the module's node when collapsed
        for obj in order:
            if isinstance(obj, Tensor):
                continue
            key = ("module", _module_key(obj._module, collapse)) if collapse and obj._module else None
            for e in obj._edges:
                if e is not None and isinstance(e[0], Tensor):
                    k = id(e[0])
                    if k not in leaf_home:
                        leaf_home[k], leaf_unit[k] = obj._module, key
                    else:
                        leaf_home[k] = _common(leaf_home[k], obj._module)
                        if leaf_unit[k] != key:
                            leaf_unit[k] = None
    for obj in order:
        if isinstance(obj, Tensor):
            key = leaf_unit.get(id(obj)) or ("obj", id(obj))
        elif collapse and obj._module:
            key = ("module", _module_key(obj._module, collapse))
        else:
            key = ("obj", id(obj))
        unit_of[id(obj)] = key
        if isinstance(obj, Tensor) and key[0] == "module":
            continue
        if key not in unit_members:
            unit_members[key] = 0
            units.append(key)
        unit_members[key] += 1

    dropped = 0
    if max_nodes is not None and len(units) > max_nodes:
        dropped = len(units) - (max_nodes - 1)
        units = units[:max_nodes - 1]
    nid = {key: f"n{i}" for i, key in enumerate(units)}
    more = "more" if dropped else None

    root_ids = {id(r) for r in roots}
    cluster_nodes = {}  # module path (or None) -> node lines
    first_obj = {}
    for obj in order:
        first_obj.setdefault(unit_of[id(obj)], obj)

    def place(path, line):
        cluster_nodes.setdefault(path if group_by_module and path else None, []).append(line)

    for key, r in root_units:
        if key not in nid:
            continue
        lines, fill, font = tensor_lines(r, names.get(id(r)) or r._name or "output", show_values, show_grads)
        place(None, f'\t{nid[key]} [label={_label(lines)} shape=box style="filled,bold" peripheries=2 '
                    f'fillcolor="{fill}" fontcolor="{font}"]\n')
    for key in units:
        if key[0] == "root":
            continue
        obj = first_obj[key]
        if key[0] == "module":
            path = key[1]
            n_ops = unit_members[key]
            lines = [str(path[-1]), f"{n_ops} op{'s' if n_ops != 1 else ''}"]
            if len(path) > 1:
                lines.insert(1, ".".join(str(p) for p in path))
            place(path[:-1], f'\t{nid[key]} [label={_label(lines)} shape=box3d style=filled '
                             f'fillcolor="{_MODULE_FILL}"]\n')
        elif isinstance(obj, Tensor):
            name = names.get(id(obj)) or obj._name
            lines, fill, font = tensor_lines(obj, name, show_values, show_grads)
            extra = " peripheries=2" if id(obj) in root_ids else ""
            place(leaf_home.get(id(obj)), f'\t{nid[key]} [label={_label(lines)} shape=box style="filled,rounded" '
                        f'fillcolor="{fill}" fontcolor="{font}"{extra}]\n')
        else:
            lines, fill, font = _op_lines(obj, names, show_values, show_grads)
            tip = f' tooltip={_label([obj._site[2]])}' if obj._site is not None and obj._site[2] else ""
            shape = "box" if len(lines) > 1 else "ellipse"  # why: long summary lines make wide ellipses
            place(obj._module, f'\t{nid[key]} [label={_label(lines)} shape={shape} style=filled '
                               f'fillcolor="{fill}" fontcolor="{font}"{tip}]\n')
    if more:
        place(None, f'\t{more} [label="… {dropped} more" shape=note style=dashed]\n')

    body = []
    # clusters, nested by module path
    paths = [p for p in cluster_nodes if p is not None]
    if paths:
        all_paths = set()
        for p in paths:
            for k in range(1, len(p) + 1):
                all_paths.add(p[:k])
        children = {}
        for p in all_paths:
            children.setdefault(p[:-1], []).append(p)
        cid = {p: f"cluster_m{i}" for i, p in enumerate(sorted(all_paths, key=lambda p: [str(x) for x in p]))}
        stack = [(p, False) for p in sorted(children.get((), []), key=str, reverse=True)]
        while stack:
            p, done = stack.pop()
            if done:
                body.append("\t}\n")
                continue
            body.append(f'\tsubgraph {cid[p]} {{\n\t\tlabel={_label([p[-1]])} style="rounded" color="#8c8c8c" '
                        f'fontsize=11\n')
            body.extend(cluster_nodes.get(p, ()))
            stack.append((p, True))
            stack.extend((c, False) for c in sorted(children.get(p, []), key=str, reverse=True))
    body.extend(cluster_nodes.get(None, ()))

    # edges: producer -> consumer (the direction the data flows)
    seen_edges = set()
    for obj in order:
        if isinstance(obj, Tensor):
            continue
        dst = unit_of[id(obj)]
        if dst not in nid:
            continue
        reds = obj._reductions
        for i, e in enumerate(obj._edges):
            if e is None:
                continue
            prod = e[0]
            src = unit_of[id(prod)]
            if src == dst:
                continue
            src_id = nid.get(src, more)
            red = reds.get(i) if reds else None
            if collapse or src_id == more:
                if (src_id, dst) in seen_edges:
                    continue
                seen_edges.add((src_id, dst))
            if red is not None:
                attrs = f' [label={_label([reduction_text(red)])} color="{_REDUCE_COLOR}" ' \
                        f'fontcolor="{_REDUCE_COLOR}" penwidth=2]'
            elif src_id != more and not isinstance(prod, Tensor) and src[0] == "obj" and not outputs(prod):
                attrs = f' [label="{shape_text(e[2])}"]'
            else:
                attrs = ""
            body.append(f"\t{src_id} -> {nid[dst]}{attrs}\n")
    for key, r in root_units:
        if key in nid and r.grad_fn is not None:
            src_id = nid.get(unit_of[id(r.grad_fn)], more)
            body.append(f"\t{src_id} -> {nid[key]}\n")
    if show_grads:
        body.append(_legend())

    dot = graphviz.Digraph("autograd", graph_attr={"rankdir": rankdir, "nodesep": "0.25", "ranksep": "0.35"},
                           node_attr={"fontname": "Helvetica", "fontsize": "10"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    dot.body.extend(body)
    return dot


# ---- rendering ----------------------------------------------------------------------------------
_FORMATS = {"svg", "png", "pdf", "jpg", "jpeg", "gif", "ps", "eps", "json", "plain"}


def save(roots, path, **draw_kwargs):
    """Draw roots (a tensor or a tuple/list of tensors) and write `path`; the extension picks the format.

    .dot/.gv writes the DOT source (no Graphviz needed); .svg, .png, .pdf (...) render with the
    system Graphviz `dot` program. Returns the graphviz.Digraph.
    """
    roots = (roots,) if isinstance(roots, Tensor) else tuple(roots)
    dot = draw_graph(*roots, **draw_kwargs)
    ext = os.path.splitext(str(path))[1].lower().lstrip(".")
    if ext in ("dot", "gv"):
        with open(path, "w", encoding="utf-8") as f:
            f.write(dot.source)
        return dot
    if ext not in _FORMATS:
        raise ValueError(f"save: can't tell the format from {str(path)!r}; use one of "
                         f".{', .'.join(sorted(_FORMATS | {'dot', 'gv'}))}")
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(_missing_message(path), dot)
    try:
        data = dot.pipe(format=ext)
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(_missing_message(path), dot) from None
    with open(path, "wb") as f:
        f.write(data)
    return dot


def _missing_message(path):
    return (f"save: rendering {os.path.basename(str(path))!r} needs Graphviz's `dot` program, which is not on "
            f"PATH; {INSTALL_HINT}. The DOT source is available without it: save to a .dot file, or use "
            f"draw_graph(...).source (also on this error's .graph)")


@contextlib.contextmanager
def record():
    """Wrap the forward in this to draw intermediate values and gradients, creation sites and module groups.

    Every op recorded inside keeps its output tensor (with retain_grad), so after backward its
    value and gradient show on the op's node; this costs memory, so use it for inspection only.
    """
    with _trace.record_sites(), _trace.keep_outputs():
        yield


__all__ = ["draw_graph", "save", "record", "GraphvizNotFoundError"]
