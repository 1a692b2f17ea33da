"""The server caps glibc's malloc arenas (a long-running threaded server's memory otherwise
creeps up with its thread count), unless the user set ``MALLOC_ARENA_MAX`` themselves."""

import ctypes.util
import platform

import pytest

from rnnlab.serve.server import limit_malloc_arenas

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_arenas_are_capped_on_glibc(monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert "libc.so" in ctypes.util.find_library("c")
    assert limit_malloc_arenas() is True


def test_the_users_own_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False
