"""bench/peer_config.py - print a Python peer's configuration and say whether it is at its best.

Imported by bench/train_torch.py and bench/rank_numpy.py. configure(threads) sets the thread
counts a peer should run with; report(...) prints, on stderr, lines starting with "peer:" - the
interpreter, numpy and its BLAS (threadpoolctl when installed, else np.show_config()), torch's
parallel_info() when torch is used, and every OPENBLAS_* / OMP_* / MKL_* variable in force - and
returns the list of problems that make a ratio against this peer meaningless:
  - fewer (or more) compute threads than the CPUs this process may run on;
  - a BLAS that is not OpenBLAS with its pthreads threading layer (Debian's libopenblas0-pthread);
  - OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE forcing OpenBLAS's kernels or blocking instead of its
    own detection of this CPU (unset them for the peer's command alone).
The benches print no ratio when the list is not empty.
"""
import io
import os
import platform
import sys
from contextlib import redirect_stdout


def cpus():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def configure(threads, use_torch=False):
    if use_torch:
        import torch
        torch.set_num_threads(threads)


def _blas_info():
    try:
        import threadpoolctl
    except ImportError:
        return None
    return [d for d in threadpoolctl.threadpool_info() if d.get("user_api") == "blas"]


def report(threads, use_torch=False, out=sys.stderr):
    import numpy as np
    problems = []
    n = cpus()

    def say(s):
        print("peer: " + s, file=out)

    say(f"python {platform.python_version()}, numpy {np.__version__}, {n} CPUs available")
    env = {k: v for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS_", "OMP_", "MKL_", "GOTO"))}
    say("environment: " + (", ".join(f"{k}={v}" for k, v in env.items()) if env else "no OPENBLAS_*/OMP_*/MKL_* set"))
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if k in os.environ:
            problems.append(f"{k}={os.environ[k]} overrides OpenBLAS's detection of this CPU")
    if threads != n:
        problems.append(f"{threads} threads asked for {n} CPUs")
    blas = _blas_info()
    if blas is None:
        buf = io.StringIO()
        with redirect_stdout(buf):
            np.show_config()
        say("threadpoolctl not installed; np.show_config():")
        for line in buf.getvalue().splitlines():
            if line.strip():
                say("  " + line)
        if "openblas" not in buf.getvalue().lower():
            problems.append("numpy's BLAS is not OpenBLAS")
    elif not blas:
        problems.append("no BLAS library loaded")
    else:
        for d in blas:
            say(f"BLAS: {d.get('internal_api')} {d.get('version')} ({d.get('threading_layer')} threading), "
                f"kernels for {d.get('architecture')}, {d.get('num_threads')} threads, {d.get('filepath')}")
            if d.get("internal_api") != "openblas" or d.get("threading_layer") != "pthreads":
                problems.append(f"BLAS {d.get('internal_api')}/{d.get('threading_layer')} is not OpenBLAS-pthread")
            if d.get("num_threads") != n:
                problems.append(f"BLAS uses {d.get('num_threads')} threads, {n} CPUs")
    if use_torch:
        import torch
        say(f"torch {torch.__version__}: get_num_threads() {torch.get_num_threads()}, "
            f"get_num_interop_threads() {torch.get_num_interop_threads()}")
        for line in torch.__config__.parallel_info().splitlines():
            if line.strip():
                say("  " + line.strip())
        if torch.get_num_threads() != n:
            problems.append(f"torch uses {torch.get_num_threads()} threads, {n} CPUs")
    for p in problems:
        say("MISCONFIGURED: " + p)
    if not problems:
        say("configuration OK: all CPUs, OpenBLAS-pthread with its own CPU detection")
    return problems
