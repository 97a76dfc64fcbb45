"""Weight repacking is turned off where llama.cpp's AMX kernels would crash the process."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from bot.engine.repacking import NO_REPACK_OPTION, cpu_flags, repacking_works, server_options


def test_cpu_flags_are_the_first_cores_flags(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 amx_tile\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert cpu_flags(cpuinfo) == frozenset({"fpu", "avx2", "amx_tile"})
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_nothing_is_probed_where_the_cpu_advertises_no_amx(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_child(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a probe ran although the CPU has no AMX")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert repacking_works(tmp_path / "any.gguf", frozenset({"avx2", "avx512f"}))


def test_a_probe_killed_by_a_signal_turns_repacking_off_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A child killed by SIGSEGV is what the AMX kernels do on a VM that does not pass AMX on."""
    import bot.engine.repacking as repacking

    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(repacking, "_REPACK_PROBE", crash)
    with caplog.at_level(logging.WARNING, logger="bot.engine.repacking"):
        assert not repacking_works(tmp_path / "crashes.gguf", frozenset({"amx_tile", "avx512f"}))
    assert "without weight repacking" in caplog.text


def test_a_file_the_probe_cannot_load_is_no_reason_to_turn_repacking_off(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A corrupt model makes the probe exit with an error, not crash: the real load reports it."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    with caplog.at_level(logging.WARNING, logger="bot.engine.repacking"):
        assert repacking_works(broken, frozenset({"amx_tile", "avx512f"}))
    assert "AMX" not in caplog.text


def test_the_peer_server_is_told_not_to_repack_where_the_engine_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.engine.repacking as repacking

    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(repacking, "_REPACK_PROBE", crash)
    monkeypatch.setattr(repacking, "cpu_flags", lambda: frozenset({"amx_tile"}))
    assert server_options(tmp_path / "peer.gguf") == [NO_REPACK_OPTION]
    monkeypatch.setattr(repacking, "cpu_flags", lambda: frozenset({"avx2"}))
    assert server_options(tmp_path / "other.gguf") == []
