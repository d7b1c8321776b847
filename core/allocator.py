"""Keep the memory torch frees inside the process (glibc) while a job runs, and hand it back when the job ends.

A 256-px FFHQ step allocates and frees hundreds of megabytes of activations, many in blocks over 32 MB. By
default glibc serves each large block with a fresh ``mmap`` and returns it with ``munmap``, so every step faults
the same pages in again and the kernel zeroes them. Measured on the 2-core machine (``bench ffhq``, one face's
step in w): 2.2 s with glibc's defaults; 0.8–1.1 s with blocks up to 32 MB kept in the heap (``mallopt``'s
ceiling for the mmap threshold); **0.48 s** with every block served from the heap (``M_MMAP_MAX`` 0) and one
arena for all threads (``M_ARENA_MAX`` 1: the engine thread's allocations would otherwise go to a thread arena,
whose heaps are capped at 64 MB, and so back to ``mmap``). The price: a resident size that stays at the job's
peak, which :func:`release_freed_memory` gives back to the system when a job ends; and a higher peak where blocks
of many sizes come and go (freed blocks of one size are not always reused for another), which memory plans allow
for (:func:`heap_overhead`).
Other platforms' allocators are left as they are.
"""

from __future__ import annotations

import ctypes
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_MAX, M_ARENA_MAX = -1, -2, -4, -8  # glibc's malloc.h
SETTINGS = {M_MMAP_MAX: 0, M_ARENA_MAX: 1, M_TRIM_THRESHOLD: (1 << 31) - 1, M_TOP_PAD: 1 << 30}
# A process's peak over what its computation holds, with these settings: θ's training on FFHQ peaked at 14.7 GiB
# where its plan (what autograd saves, × core.memory.SAFETY) was 9.7 GiB — 1.5× (with glibc's defaults it stayed
# within the plan); a batch of plain steps showed none. Memory plans divide their budget by it.
HEAP_OVERHEAD = 1.6
_applied: bool | None = None


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # musl and others: no glibc
        return None


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` once (Linux with glibc); True when they are in force."""
    global _applied
    if _applied is None:
        libc = _libc()
        try:
            _applied = libc is not None and all(libc.mallopt(option, value) == 1 for option, value in SETTINGS.items())
        except AttributeError:  # a libc without mallopt: its defaults stay
            _applied = False
    return _applied


def release_freed_memory() -> bool:
    """Give the heap's free pages back to the system (``malloc_trim``), so the editor does not stay at a finished
    job's peak; True when something was released (only where :func:`keep_freed_memory` is in force). The next job
    faults its pages in again once (one FFHQ step: ≈ 0.2 s more), so the engine calls this after jobs, not after
    quick previews."""
    libc = _libc() if _applied else None
    return libc is not None and bool(libc.malloc_trim(0))


def heap_overhead() -> float:
    """What a memory plan must allow over its measured bytes for the heap: :data:`HEAP_OVERHEAD` where the
    settings are in force, else 1."""
    return HEAP_OVERHEAD if _applied else 1.0
