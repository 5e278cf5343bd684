"""Finding a call's recording on disk, and refusing everything else
(gateway/history/recordings.py), in a real folder tree under tmp_path."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.history.recordings import RecordingFinder

MOSCOW = ZoneInfo("Europe/Moscow")
UNIQUEID = "1795770510.30"  # 2026-11-27 09:08:30 UTC, 12:08:30 in Moscow
DAY = "2026/11/27"


def finder(root: Path, scan_limit: int = 1000) -> RecordingFinder:
    return RecordingFinder(str(root), MOSCOW, scan_limit)


def write(path: Path, data: bytes = b"RIFF....WAVE") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    monitor = tmp_path / "monitor"
    monitor.mkdir()
    return monitor


def test_a_uniqueid_finds_its_file_in_the_day_folder(root: Path) -> None:
    wanted = write(root / DAY / f"external-101-79120000000-20261127-120830-{UNIQUEID}.wav")
    write(root / DAY / "external-101-79120000000-20261127-120830-1795770510.301.wav")  # .301
    write(root / DAY / "q-1795770510.3.wav")  # .3: another call
    found = finder(root).by_uniqueid(UNIQUEID)
    assert found is not None
    assert (found.path, found.content_type) == (wanted, "audio/wav")


def test_the_top_folder_and_the_next_day_are_searched_too(root: Path) -> None:
    top = write(root / f"{UNIQUEID}.mp3")
    found = finder(root).by_uniqueid(UNIQUEID)
    assert found is not None
    assert (found.path, found.content_type) == (top, "audio/mpeg")
    top.unlink()
    late = write(root / "2026/11/28" / f"out-{UNIQUEID}.WAV")  # WAV49, past midnight
    found = finder(root).by_uniqueid(UNIQUEID)
    assert found is not None
    assert (found.path, found.content_type) == (late, "audio/wav")


def test_a_system_name_prefix_is_part_of_the_uniqueid(root: Path) -> None:
    wanted = write(root / DAY / f"in-pbx1-{UNIQUEID}.ogg")
    found = finder(root).by_uniqueid(f"pbx1-{UNIQUEID}")
    assert found is not None
    assert (found.path, found.content_type) == (wanted, "audio/ogg")


@pytest.mark.parametrize("uniqueid", ["../1795770510.30", "a/b", "", "x" * 151, "1\x00"])
def test_a_uniqueid_never_names_a_folder(root: Path, uniqueid: str) -> None:
    write(root / DAY / f"{UNIQUEID}.wav")
    assert finder(root).by_uniqueid(uniqueid) is None


def test_only_regular_recording_files_inside_the_folder(root: Path, tmp_path: Path) -> None:
    secret = write(tmp_path / "secret" / f"{UNIQUEID}.wav", b"not yours")
    (root / DAY).mkdir(parents=True)
    (root / DAY / f"a-{UNIQUEID}.wav").symlink_to(secret)  # a symlink out
    (root / DAY / f"b-{UNIQUEID}.wav").mkdir()  # a folder
    write(root / DAY / f"c-{UNIQUEID}.txt")  # not a recording
    os.mkfifo(root / DAY / f"d-{UNIQUEID}.wav")  # a pipe
    assert finder(root).by_uniqueid(UNIQUEID) is None
    inside = write(root / "store" / "real.wav")
    (root / DAY / f"e-{UNIQUEID}.wav").symlink_to(inside)  # a symlink that stays inside
    found = finder(root).by_uniqueid(UNIQUEID)
    assert found is not None
    assert found.path == inside


def test_the_folder_itself_may_be_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    wanted = write(real / DAY / f"{UNIQUEID}.gsm")
    link = tmp_path / "link"
    link.symlink_to(real)
    found = finder(link).by_uniqueid(UNIQUEID)
    assert found is not None
    assert (found.path, found.content_type) == (wanted, "audio/x-gsm")


def test_a_named_file_is_taken_by_name_in_the_calls_day(root: Path, tmp_path: Path) -> None:
    wanted = write(root / DAY / "external-101-x.wav")
    start = 1_795_770_510
    search = finder(root)
    found = search.named("external-101-x.wav", start)
    assert found is not None
    assert found.path == wanted
    assert search.named("external-101-x.wav", None) is None  # no day: the top folder only
    assert search.named(f"{DAY}/external-101-x.wav", None) is not None
    assert search.named(str(wanted), None) is not None  # absolute, inside
    write(tmp_path / "etc" / "passwd.wav")
    for hostile in ("../etc/passwd.wav", str(tmp_path / "etc/passwd.wav"), "", "a\x00b.wav"):
        assert search.named(hostile, start) is None, hostile
    assert search.named("..", start) is None
    assert search.named(".", start) is None


def test_a_huge_folder_is_read_up_to_the_limit(
    root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(30):
        write(root / DAY / f"other-{n}.wav")
    write(root / DAY / f"zz-{UNIQUEID}.wav")
    with caplog.at_level(logging.WARNING, "gateway.history"):
        finder(root, scan_limit=10).by_uniqueid(UNIQUEID)  # found only if among the 10 read
    assert "holds more than 10 entries" in caplog.text
    assert "recordings_scan_limit" in caplog.text
    assert finder(root, scan_limit=100).by_uniqueid(UNIQUEID) is not None


def test_a_missing_folder_finds_nothing(tmp_path: Path) -> None:
    assert finder(tmp_path / "nowhere").by_uniqueid(UNIQUEID) is None
