"""Opt-in forward tracing and backward observation, used by detect_anomaly, ag.viz and checked mode.

Off by default: Function.apply checks the single flag `state.active`, and the reverse pass checks
`state.observer`, so ordinary training pays nothing for these tools.
"""
import contextlib
import linecache
import os
import sys

_LIB_DIRS = None


class _TraceState:
    """What the forward records on each new node, and who watches the reverse pass."""

    def __init__(self):
        self.active = False     # any forward tracing on (kept equal to the fields below by refresh())
        self.sites = 0          # > 0: each node records its creation site as ctx._site
        self.modules = []       # labels of the module calls being run; nodes record ctx._module = tuple(modules)
        self.keep_inputs = 0    # > 0: each node keeps a copy of its forward inputs as ctx._inputs
        self.keep_outputs = 0   # > 0: each node keeps its output Tensor (ctx._out, with retain_grad) for drawings
        self.observer = None    # notified by the reverse pass: node(), reduce(), accumulate(), leaf()


state = _TraceState()  # an instance: fast attribute reads (see grad_mode._state)


def refresh():
    """Recompute `state.active` after a switch changed (the anomaly switch counts too)."""
    from .anomaly import _state as anomaly
    state.active = bool(anomaly.enabled or state.sites or state.modules or state.keep_inputs
                        or state.keep_outputs)


def _library_dirs():
    global _LIB_DIRS
    if _LIB_DIRS is None:
        here = os.path.dirname(os.path.abspath(__file__))
        root = os.path.dirname(here)
        _LIB_DIRS = tuple(os.path.join(root, d) + os.sep for d in ("autograd_core", "nn", "optim"))
    return _LIB_DIRS


def user_site(skip=1):
    """(filename, lineno, source line) of the innermost frame outside the library's packages."""
    lib = _library_dirs()
    frame = sys._getframe(skip)
    while frame is not None:
        fname = os.path.abspath(frame.f_code.co_filename)
        if not fname.startswith(lib) and "<frozen" not in fname:
            return (frame.f_code.co_filename, frame.f_lineno,
                    linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip())
        frame = frame.f_back
    return None


@contextlib.contextmanager
def record_sites():
    """While on, every recorded op remembers the user's file:line that created it."""
    state.sites += 1
    refresh()
    try:
        yield
    finally:
        state.sites -= 1
        refresh()


@contextlib.contextmanager
def module_scope(label):
    """Tag every op recorded inside with `label` (nested scopes give a path); used for module groups."""
    state.modules.append(label)
    refresh()
    try:
        yield
    finally:
        state.modules.pop()
        refresh()


@contextlib.contextmanager
def keep_inputs():
    """While on, every recorded op keeps a copy of its forward inputs (for checked mode)."""
    state.keep_inputs += 1
    refresh()
    try:
        yield
    finally:
        state.keep_inputs -= 1
        refresh()


@contextlib.contextmanager
def keep_outputs():
    """While on, every recorded op keeps its output tensor and its gradient (for drawings)."""
    state.keep_outputs += 1
    refresh()
    try:
        yield
    finally:
        state.keep_outputs -= 1
        refresh()


@contextlib.contextmanager
def observe(observer):
    """Let `observer` watch every reverse pass run inside (node, reduce, accumulate and leaf events)."""
    prev = state.observer
    state.observer = observer
    try:
        yield observer
    finally:
        state.observer = prev
