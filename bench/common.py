"""What the benchmarks share: running a command, and timing one."""
import subprocess
import time


def sh(*args, check=True, input=None):
    """Runs `args`; exits with the end of its stderr when it fails and `check`."""
    result = subprocess.run(args, capture_output=True, text=True, input=input)
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {result.stderr[-400:]}")
    return result


def timed(*args):
    """Seconds `args` took to run (it must succeed)."""
    start = time.perf_counter()
    sh(*args)
    return time.perf_counter() - start
