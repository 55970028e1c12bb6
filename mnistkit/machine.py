"""The machine a run happens on: its processor, memory and TensorFlow's kernels.

The processor's model and flags name the machine in benchmark reports, and
decide whether a network computes in bfloat16: only where the CPU has
instructions for it (`native_bfloat16`). Elsewhere TensorFlow emulates
bfloat16, slower than float32. `resident_bytes` reads the memory the process
holds, which benchmarks report, and `onednn_kernels` which kernels TensorFlow
chose for this CPU.

Importing this module reads no file and loads no TensorFlow; the functions
about TensorFlow's kernels load it (quietly, through `mnistkit.runtime`) when
called.
"""

import functools
import os
import platform

# CPU flags (as Linux names them in /proc/cpuinfo) of native bfloat16
# arithmetic: AVX-512 BF16 (AMD Zen 4 and later, Intel Cooper Lake and later)
# and AMX (Intel Sapphire Rapids and later).
BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")

# The flags that decide how fast TensorFlow's CPU kernels run, for reports.
_REPORTED_FLAGS = ("avx2", "avx512f", "avx512_vnni", *BFLOAT16_FLAGS, "amx_tile")


def _cpuinfo_field(name):
    """The first value of `name` in /proc/cpuinfo, or None off Linux."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        pass
    return None


@functools.cache
def cpu_model() -> str:
    """The processor's model name, e.g. ``"AMD EPYC 9B14"``.

    Read once, from ``/proc/cpuinfo`` on Linux and from `platform` elsewhere.

    Returns
    -------
    model : str
        ``"unknown CPU"`` where the system does not say.

    Examples
    --------
    >>> from mnistkit.machine import cpu_model
    >>> isinstance(cpu_model(), str)
    True
    """
    return (
        _cpuinfo_field("model name")
        or platform.processor()
        or platform.machine()
        or "unknown CPU"
    )


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The processor's feature flags, as Linux names them in ``/proc/cpuinfo``.

    Read once per process.

    Returns
    -------
    flags : frozenset of str
        E.g. ``"avx2"``, ``"avx512_bf16"``; empty off Linux.

    Examples
    --------
    >>> from mnistkit.machine import cpu_flags
    >>> isinstance(cpu_flags(), frozenset)
    True
    """
    return frozenset((_cpuinfo_field("flags") or "").split())


def native_bfloat16() -> bool:
    """Whether the CPU multiplies bfloat16 numbers in hardware.

    That is, whether it has one of `BFLOAT16_FLAGS`: only then is bfloat16
    faster than float32 on it (`mnistkit.architectures.resolve_dtype_policy`
    decides by it).

    Returns
    -------
    native : bool
        False off Linux, where the flags are not read.

    Examples
    --------
    >>> from mnistkit.machine import native_bfloat16
    >>> native_bfloat16() in (True, False)
    True
    """
    return any(flag in cpu_flags() for flag in BFLOAT16_FLAGS)


def describe_machine() -> str:
    """One line naming the CPU, its speed-relevant flags and its cores.

    The flags are those that decide how fast TensorFlow's CPU kernels run
    (AVX2, AVX-512, VNNI, bfloat16, AMX); the cores are those this process
    may run on, fewer than the machine's in a container.

    Returns
    -------
    line : str
        E.g. ``"AMD EPYC 9B14 (16 cores; avx2 avx512f avx512_bf16)"``.

    Examples
    --------
    >>> from mnistkit.machine import describe_machine
    >>> "cores" in describe_machine()
    True
    """
    flags = " ".join(flag for flag in _REPORTED_FLAGS if flag in cpu_flags())
    return f"{cpu_model()} ({_usable_cores()} cores{'; ' + flags if flags else ''})"


def _usable_cores():
    """The cores this process may run on (fewer than the machine's in a container)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count()


def resident_bytes() -> int | float:
    """The memory this process holds in RAM now (its resident set), in bytes.

    Read from Linux's ``/proc/self/statm``: cheap enough to sample every few
    milliseconds while a model fits, as the benchmarks do to report peak
    memory.

    Returns
    -------
    size : int or float
        NaN where ``/proc`` is missing (off Linux).

    Examples
    --------
    >>> import numpy as np
    >>> from mnistkit.machine import resident_bytes
    >>> before = resident_bytes()
    >>> block = np.ones(64 * 2**20, dtype=np.uint8)  # 64 MiB, every page written
    >>> bool(resident_bytes() - before > 32 * 2**20)
    True
    """
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE")


def onednn_kernels() -> bool | None:
    """Whether TensorFlow runs its CPU operations through oneDNN in this process.

    TensorFlow's Linux packages turn oneDNN on by default only on CPUs with
    AVX-512 VNNI, AVX-512 BF16 or AMX; ``TF_ENABLE_ONEDNN_OPTS=1`` or ``0``,
    set before TensorFlow loads, decides instead. Without oneDNN, convolutions
    run on TensorFlow's own kernels, which are much slower on CPUs without
    those instructions (docs/benchmarks.md). Loads TensorFlow if it is not
    loaded yet.

    Returns
    -------
    enabled : bool or None
        None where this TensorFlow does not say.

    Examples
    --------
    >>> from mnistkit.machine import onednn_kernels
    >>> onednn_kernels() in (True, False, None)
    True
    """
    # TensorFlow loads here, if not yet, with its start-up notices silenced.
    from . import runtime  # noqa: F401

    try:
        # TensorFlow's own answer; it has no public function for it.
        from tensorflow.python.util import _pywrap_util_port
    except ImportError:
        return None
    is_enabled = getattr(_pywrap_util_port, "IsMklEnabled", None)
    return None if is_enabled is None else bool(is_enabled())


def describe_kernels() -> str:
    """One line saying whether TensorFlow computes through oneDNN, for reports.

    Loads TensorFlow if it is not loaded yet.

    Returns
    -------
    line : str
        E.g. ``"TensorFlow's oneDNN kernels: on (TF_ENABLE_ONEDNN_OPTS unset)"``.

    Examples
    --------
    >>> from mnistkit.machine import describe_kernels
    >>> describe_kernels().startswith("TensorFlow's oneDNN kernels: ")
    True
    """
    enabled = onednn_kernels()
    state = {True: "on", False: "off", None: "unknown"}[enabled]
    setting = os.environ.get("TF_ENABLE_ONEDNN_OPTS")
    variable = "TF_ENABLE_ONEDNN_OPTS"
    variable += " unset" if setting is None else f"={setting}"
    return f"TensorFlow's oneDNN kernels: {state} ({variable})"
