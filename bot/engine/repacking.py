"""Whether llama.cpp may repack a model's weights for this CPU, found out before it can crash.

Why a module of its own, without llama.cpp's bindings: the engine asks it before loading a model,
and so do the front ends that start llama.cpp's own server (the bench's peer), which may run where
the bindings are not imported.
"""

from __future__ import annotations

import functools
import logging
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)

# Seconds the repacking probe may take: loading the model and one short batch take about one.
REPACK_PROBE_TIMEOUT_S = 120.0
AMX_FLAG = "amx_tile"
_REPACK_PROBE = """
import sys
import llama_cpp
model = llama_cpp.Llama(sys.argv[1], n_ctx=64, n_threads=1, verbose=False)
model.eval(model.tokenize(b"A short probe of the matrix kernels."))
"""


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags the kernel lists for the first core; empty where it lists none."""
    try:
        with cpuinfo.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


@functools.cache
def repacking_works(path: Path, flags: frozenset[str] | None = None) -> bool:
    """Whether llama.cpp may repack the model's weights for this CPU (its "extra buffer types").

    On a CPU that advertises AMX, llama.cpp repacks Q4/Q8 weights into AMX tiles and multiplies them
    with AMX instructions. Some virtual machines advertise AMX, and the kernel grants it, yet the
    first tile instruction kills the process (seen on a Firecracker VM: SIGSEGV at `ldtilecfg` in
    the first decode). Only running it tells, so where AMX is advertised one short decode runs in a
    child process first; if a signal kills it (or it hangs), the model loads without repacking
    (plain CPU kernels, correct everywhere). Elsewhere nothing runs: no other extra buffer type
    uses instructions the CPU flags do not already promise. Cached per model file for the process.
    """
    if AMX_FLAG not in (cpu_flags() if flags is None else flags):
        return True
    try:
        probe = subprocess.run(
            [sys.executable, "-c", _REPACK_PROBE, str(path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=REPACK_PROBE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        works = False
    except OSError:  # no child could start: nothing was learnt about the kernels
        return True
    else:
        # Only a death by signal is the kernels' crash. A child that exits with an error could
        # not load the file at all (a corrupt model), and the real load says why in its own words.
        works = probe.returncode >= 0
    if not works:
        log.warning(
            "This CPU advertises AMX, but llama.cpp's AMX kernels crash on it (a virtual machine "
            "that does not pass AMX through): loading %s without weight repacking.",
            path.name,
        )
    return works


NO_REPACK_OPTION = "--no-repack"  # llama-server's switch for the same thing


def server_options(model: Path) -> list[str]:
    """What to add to llama-server's command line for `model` on this CPU (see `repacking_works`)."""
    return [] if repacking_works(model) else [NO_REPACK_OPTION]


__all__ = ["NO_REPACK_OPTION", "cpu_flags", "repacking_works", "server_options"]
