"""The array module every op computes with (NumPy now; CuPy can slot in here later)."""
import numpy

# why: ops write `xp.exp(a)` rather than `np.exp(a)`, so a GPU backend only has to
# rebind this module variable (and `array_module`) instead of touching every op.
xp = numpy


def array_module(array):
    """Return the array module (NumPy, later CuPy) that owns `array`."""
    return xp


def keep_freed_memory(mmap_threshold=256 << 20, trim_threshold=256 << 20, top_pad=64 << 20):
    """Ask glibc to keep freed memory in the process, so big temporaries are not page-faulted anew each step.

    why: by default glibc gives blocks over 128 KiB (a threshold it raises only up to 32 MiB) back
    to the OS on free, so every training step maps and zero-faults its large activations, im2col
    buffers and gradients again: 10-30% of a CNN or GPT step on a small machine. Process-wide and
    affecting every library in the process alike (PyTorch's CPU tensors use the same malloc); a
    no-op returning False where glibc's mallopt is missing (macOS, Windows, musl).
    """
    import ctypes
    try:
        libc = ctypes.CDLL("libc.so.6")
        ok = [libc.mallopt(-3, int(mmap_threshold)),   # M_MMAP_THRESHOLD
              libc.mallopt(-1, int(trim_threshold)),   # M_TRIM_THRESHOLD
              libc.mallopt(-2, int(top_pad))]          # M_TOP_PAD
    except (OSError, AttributeError):
        return False
    return all(v == 1 for v in ok)
