"""detect_anomaly: while on, an op whose forward or backward makes NaN/Inf raises, naming the op and the user's line."""
import functools
import os

from .backend import xp


class _AnomalyState:
    """Process-wide switch read by Function.apply and the reverse pass."""

    def __init__(self):
        self.enabled = False


_state = _AnomalyState()  # an instance: fast attribute reads (see grad_mode._state)
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class detect_anomaly:
    """Context manager / decorator: check every forward and backward result for NaN and Inf."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = bool(self.check_nan)
        _refresh_trace()
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        _refresh_trace()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


def set_detect_anomaly(mode):
    """Turn anomaly detection on or off globally."""
    _state.enabled = bool(mode)
    _refresh_trace()


def _refresh_trace():
    from . import trace
    trace.refresh()


def is_anomaly_enabled():
    """True while anomaly detection is on."""
    return _state.enabled


def user_frame(stack):
    """The innermost frame of a captured stack that lies outside this library's packages."""
    if not stack:
        return None
    lib_roots = (_PACKAGE_DIR, os.path.join(os.path.dirname(_PACKAGE_DIR), "nn"),
                 os.path.join(os.path.dirname(_PACKAGE_DIR), "optim"))
    for frame in reversed(stack):
        path = os.path.abspath(frame.filename)
        if not path.startswith(lib_roots):
            return frame
    return stack[-1]


def _where(node):
    frame = user_frame(node._stack)
    if frame is None:
        return ""
    return f"\n  the op was created at {frame.filename}:{frame.lineno}\n    {frame.line}"


def _bad_kind(array):
    if xp.isnan(array).any():
        return "nan"
    return "inf"


def check_forward(node, outs):
    """Raise if a forward result holds NaN or Inf."""
    outs = outs if isinstance(outs, tuple) else (outs,)
    for i, o in enumerate(outs):
        a = o._data
        if a.dtype.kind in "fc" and not xp.isfinite(a).all():
            raise RuntimeError(f"detect_anomaly: {type(node).__name__} produced {_bad_kind(a)} values in its "
                               f"forward output {i} (shape {tuple(a.shape)}){_where(node)}")


def check_backward(node, grad):
    """Raise if a gradient computed by node's backward holds NaN or Inf."""
    a = grad._data if hasattr(grad, "_data") else xp.asarray(grad)
    if a.dtype.kind in "fc" and not xp.isfinite(a).all():
        raise RuntimeError(f"detect_anomaly: function '{node.name()}' returned {_bad_kind(a)} values in its "
                           f"gradient (shape {tuple(a.shape)}){_where(node)}")
