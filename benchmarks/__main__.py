"""Run the benchmarks: `python -m benchmarks [names...] [--repeat N] [--warmup N] [--settle S] [--json PATH] [--threads N]`.

For each workload, our median step time and, when PyTorch is importable, PyTorch's on the same data
in the same run, interleaved block by block so machine noise hits both alike; then ours/PyTorch.
PyTorch is never a dependency of the project: it is imported here only if present.

Each timed block is preceded by untimed steps of the same side (`--settle` seconds): both libraries
leave worker threads spinning for a while after their last parallel call (OpenBLAS's for ~0.1 s), and
a block timed right after the other side's would share the cores with them. Without this, PyTorch's
blocks that followed ours ran ~40% slower on a 2-core machine, flattering every ratio.
"""
import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import autograd_core as ag  # noqa: E402
from autograd_core.backend import keep_freed_memory  # noqa: E402
from autograd_core.blas import loaded_openblas  # noqa: E402

from . import load_all  # noqa: E402


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _openblas_call(names, *args):
    """Call the first of `names` found in an OpenBLAS that this process loaded (NumPy's); None if none."""
    for path in loaded_openblas():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for sym in names:
            fn = getattr(lib, sym, None)
            if fn is not None:
                return fn(*args)
    return None


def _blas_threads():
    """OpenBLAS's thread count, read from the library NumPy loaded (best effort), else what env says."""
    n = _openblas_call(("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                        "openblas_get_num_threads"))
    if n is not None:
        return f"OpenBLAS {n} threads"
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ}
    return f"BLAS threads {env or 'default'}"


def _set_blas_threads(n):
    """Set NumPy's OpenBLAS thread count (best effort; other BLAS builds: use OMP_NUM_THREADS)."""
    _openblas_call(("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                    "openblas_set_num_threads"), ctypes.c_int(n))


def machine_info(torch):
    """A one-glance description of where the numbers come from."""
    info = {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numpy_blas": _blas_threads(),
        "torch": getattr(torch, "__version__", None),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
    }
    return info


def _time_block(step, number, settle_s=0.0):
    """Seconds per step over `number` steps, after untimed steps for settle_s (see the module docstring)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < settle_s:
        step()
    t0 = time.perf_counter()
    for _ in range(number):
        step()
    return (time.perf_counter() - t0) / number


def run_workload(w, torch, repeat, warmup, seed, min_block_s, settle_s=0.3):
    """Time one workload: warm up both sides, then `repeat` interleaved blocks; medians per step."""
    data = w.data(np.random.default_rng(seed))
    sides = {"ours": w.setup(ag, data)}
    target_s = w.target_s  # an absolute goal (seconds) for a workload with no PyTorch side
    if torch is not None and target_s is None:
        sides["torch"] = w.setup(torch, data)
    # warm up, and size the blocks so one block of ours lasts about min_block_s
    est = {}
    for name, step in sides.items():
        for _ in range(max(1, warmup)):
            t0 = time.perf_counter()
            step()
            est[name] = time.perf_counter() - t0
    number = max(1, int(min_block_s / max(est["ours"], 1e-7)))
    times = {name: [] for name in sides}
    order = list(sides)
    for r in range(repeat):
        # why: alternate which side goes first so drifting machine load is shared evenly
        for name in (order if r % 2 == 0 else order[::-1]):
            times[name].append(_time_block(sides[name], number, settle_s if len(sides) > 1 else 0.0))
    res = {"name": w.name, "family": w.family, "description": w.description, "target": w.target,
           "number": number, "repeat": repeat, "settle_s": settle_s if len(sides) > 1 else 0.0,
           "ours_s": statistics.median(times["ours"]), "ours_blocks_s": times["ours"]}
    if target_s is not None:
        res["target_s"] = target_s
    if "torch" in times:
        res["torch_s"] = statistics.median(times["torch"])
        res["torch_blocks_s"] = times["torch"]
        res["ratio"] = res["ours_s"] / res["torch_s"]
    return res


def _fmt_time(s):
    if s is None:
        return "-"
    return f"{s * 1e6:.0f} us" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def print_table(results):
    head = ["workload", "ours", "PyTorch", "ratio", "target", ""]
    rows = []
    for r in results:
        ratio = r.get("ratio")
        target = r["target"]
        verdict = "" if ratio is None or target is None else ("ok" if ratio <= target else "ABOVE TARGET")
        target_text = "-" if target is None else f"<= {target:g}x"
        if r.get("target_s") is not None:  # no PyTorch side: ours against an absolute time
            verdict = "ok" if r["ours_s"] <= r["target_s"] else "ABOVE TARGET"
            target_text = f"<= {_fmt_time(r['target_s'])}"
        no_torch = "—" if r.get("target_s") is not None else "-"
        rows.append([r["name"], _fmt_time(r["ours_s"]), _fmt_time(r.get("torch_s")) if "torch_s" in r else no_torch,
                     no_torch if ratio is None else f"{ratio:.2f}x", target_text, verdict])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(wd) for c, wd in zip(cells, widths)).rstrip()  # noqa: E731
    print(line(head))
    print(line(["-" * wd for wd in widths]))
    for row in rows:
        print(line(row))


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="workloads to run (default: all)")
    p.add_argument("--repeat", type=int, default=7, help="timed blocks per side (the median is reported)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per side before timing")
    p.add_argument("--block", type=float, default=0.2, help="seconds one timed block of ours should last")
    p.add_argument("--settle", type=float, default=0.3,
                   help="seconds of untimed steps of a side before each of its timed blocks, so the other "
                        "library's idle worker threads have stopped spinning (with PyTorch only)")
    p.add_argument("--seed", type=int, default=0, help="seed for the workloads' data")
    p.add_argument("--json", metavar="PATH", help="also write the results (and machine) as JSON")
    p.add_argument("--threads", type=int,
                   help="torch.set_num_threads(N), and the same for NumPy's OpenBLAS (default: leave both as they are)")
    p.add_argument("--no-torch", action="store_true", help="time ours only, even if PyTorch is installed")
    p.add_argument("--default-malloc", action="store_true",
                   help="leave glibc's malloc as it is (default: autograd_core.backend.keep_freed_memory(), which "
                        "applies to PyTorch in this process too)")
    p.add_argument("--list", action="store_true", help="list the workloads and exit")
    args = p.parse_args(argv)

    workloads = load_all()
    if args.list:
        for w in workloads.values():
            print(f"{w.name:16s} [{w.family}] {w.description}")
        return 0
    unknown = [n for n in args.names if n not in workloads]
    if unknown:
        p.error(f"unknown workload(s) {', '.join(unknown)}; known: {', '.join(workloads)}")
    chosen = [workloads[n] for n in (args.names or workloads)]

    torch = None
    if not args.no_torch:
        try:
            import torch  # noqa: F811  (optional: the comparison only)
        except ImportError:
            print("(PyTorch is not installed: timing ours only)")
    if args.threads:
        _set_blas_threads(args.threads)
        if torch is not None:
            torch.set_num_threads(args.threads)

    # why: process-wide, so it is set once before any workload and holds for both libraries alike
    malloc = "glibc default" if args.default_malloc else (
        "freed memory kept" if keep_freed_memory() else "default (mallopt unavailable)")
    info = machine_info(torch)
    info["malloc"] = malloc
    print(f"machine: {info['platform']}, {info['cpu']}, {info['cores']} cores")
    print(f"python {info['python']}, numpy {info['numpy']} ({info['numpy_blas']})"
          + (f", torch {info['torch']} ({info['torch_threads']} threads)" if torch is not None else "")
          + f"; malloc: {malloc}")
    print()

    results = []
    for w in chosen:
        results.append(run_workload(w, torch, args.repeat, args.warmup, args.seed, args.block, args.settle))
    print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "results": results}, f, indent=2)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
