"""Grad modes: no_grad, enable_grad, set_grad_enabled, is_grad_enabled."""
import functools


class _GradState:
    """Process-wide switch read by every op before it records a node."""

    def __init__(self):
        self.enabled = True


# why: an instance, not the class itself: the interpreter reads an instance's attribute several times
# faster than a class object's (every op reads this flag)
_state = _GradState()


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _state.enabled


class _GradModeContext:
    """Base of the grad-mode context managers; each also works as a decorator."""

    _mode = True

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = self._mode

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Context manager / decorator that stops recording operations on the graph."""
    _mode = False


class enable_grad(_GradModeContext):
    """Context manager / decorator that turns recording back on inside no_grad."""
    _mode = True


class set_grad_enabled(_GradModeContext):
    """Set grad mode: takes effect at once, and restores the old mode when used in `with`."""

    def __init__(self, mode):
        self._prev = _state.enabled
        self._mode = bool(mode)
        _state.enabled = self._mode

    def __enter__(self):
        pass

    def __call__(self, fn):
        # why: as a decorator the mode applies per call, not at decoration time
        _state.enabled = self._prev
        mode = self._mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev
        return wrapper


class inference_mode(no_grad):
    """Alias of no_grad (PyTorch's faster variant has nothing extra to skip here)."""

    def __init__(self, mode=True):
        self._mode = not mode
