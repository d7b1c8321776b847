"""The allocator settings that keep a large model's freed activations in the process (glibc only)."""

from __future__ import annotations

import platform
import sys

import pytest

from core.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
                    reason="mallopt is glibc's")
def test_the_settings_take_on_glibc_and_applying_twice_is_harmless():
    assert keep_freed_memory() is True
    assert keep_freed_memory() is True
