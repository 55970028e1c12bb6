"""What the machine offers the networks, read from the machine itself.

The processor's model and flags name the machine in benchmark reports, and
decide whether a network computes in bfloat16: only where the CPU has
instructions for it. Elsewhere TensorFlow emulates bfloat16, slower than
float32.
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
def cpu_model():
    """The processor's model name, e.g. ``"AMD EPYC"``.

    Examples
    --------
    >>> from mnistkit._hardware import cpu_model
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
def cpu_flags():
    """The processor's feature flags, as Linux names them; empty elsewhere."""
    return frozenset((_cpuinfo_field("flags") or "").split())


def native_bfloat16():
    """Whether the CPU multiplies bfloat16 numbers in hardware.

    Examples
    --------
    >>> from mnistkit._hardware import native_bfloat16
    >>> native_bfloat16() in (True, False)
    True
    """
    return any(flag in cpu_flags() for flag in BFLOAT16_FLAGS)


def describe_machine():
    """One line naming the CPU, its speed-relevant flags and its cores.

    Examples
    --------
    >>> from mnistkit._hardware import describe_machine
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
