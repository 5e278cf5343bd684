"""Finding a call's recording under ``[history] recordings_dir``, safely.

Two ways, whichever the configuration gives:

* ``recording_column`` (FreePBX: ``recordingfile``): the CDR names the file.
  A bare name is looked for in ``recordings_dir`` and in its
  ``YYYY/MM/DD`` folder of the call's day and the next (FreePBX files them
  so, by the day MixMonitor started, in ``pbx_timezone``); a name with
  folders is taken below ``recordings_dir`` (an absolute one must point
  inside it).
* otherwise the naming rule: a file whose name holds the call's uniqueid as
  a whole (``…-1795770510.30.wav``, not ``…1795770510.301.wav``), in
  ``recordings_dir`` itself and in the ``YYYY/MM/DD`` folders of the day the
  uniqueid's time falls on and the next.  No deeper search: a monitor
  folder can hold millions of files, so each folder is read up to
  ``recordings_scan_limit`` entries and the first match in name order wins.

Whatever names it, a file is served only if its real path (every symlink
resolved) is inside the real ``recordings_dir``, it is a regular file, and
its extension is a recording format (``RECORDING_TYPES``): no ``..``, no
symlink out, no device, no other file of the folder.  Blocking file system
calls: run it in a worker thread.
"""

from __future__ import annotations

import logging
import os
import re
import stat
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

log = logging.getLogger("gateway.history")

RECORDING_TYPES: Final = {
    ".wav": "audio/wav",  # also WAV49 (GSM in WAV), which Asterisk names .WAV
    ".gsm": "audio/x-gsm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",  # format_ogg_opus writes Ogg Opus
    ".flac": "audio/flac",
    ".m4a": "audio/mp4",
    ".au": "audio/basic",
    ".ulaw": "audio/basic",  # raw G.711 mu-law, 8 kHz
    ".ul": "audio/basic",
    ".alaw": "audio/x-alaw-basic",
    ".al": "audio/x-alaw-basic",
    ".g722": "audio/G722",
    ".g729": "audio/G729",
    ".sln": "audio/L16;rate=8000",  # signed linear, Asterisk's own
    ".sln16": "audio/L16;rate=16000",
}
"""What a recording may be, by extension (any case), and its Content-Type."""

UNIQUEID: Final = re.compile(r"[A-Za-z0-9_.-]{1,150}")
"""A uniqueid or linkedid: ``1795770510.30``, with a ``systemname-`` prefix when
Asterisk has one.  No ``/``: it never names a folder."""
_EPOCH: Final = re.compile(r"(\d{9,11})\.\d+$")
"""The Unix time a uniqueid begins with (after any system name)."""


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path
    content_type: str


class RecordingFinder:
    def __init__(self, root: str, zone: ZoneInfo, scan_limit: int) -> None:
        self.root = root
        self.zone = zone
        self.scan_limit = scan_limit

    def named(self, value: str, start: int | None) -> Recording | None:
        """The file a CDR names (``recording_column``), ``start`` the call's epoch seconds."""
        if not value or "\0" in value:
            return None
        if "/" in value:
            candidates = [Path(value) if value.startswith("/") else Path(self.root, value)]
        else:
            candidates = [Path(folder, value) for folder in self._folders(start)]
        for candidate in candidates:
            found = self._safe(candidate)
            if found is not None:
                return found
        return None

    def by_uniqueid(self, uniqueid: str) -> Recording | None:
        """The naming rule: a recording whose file name holds the uniqueid."""
        if not UNIQUEID.fullmatch(uniqueid):
            return None
        token = re.compile(rf"(?<![\d.]){re.escape(uniqueid)}(?!\d)")
        epoch = _EPOCH.search(uniqueid)
        for folder in self._folders(int(epoch.group(1)) if epoch else None):
            for name in self._names(folder):
                if token.search(name):
                    found = self._safe(Path(folder, name))
                    if found is not None:
                        return found
        return None

    def _folders(self, start: int | None) -> list[str]:
        """``recordings_dir``, then the FreePBX day folders of ``start``'s day and the next."""
        folders = [self.root]
        if start is not None:
            day = datetime.fromtimestamp(start, self.zone).date()
            folders += [self._day_folder(day), self._day_folder(day + timedelta(days=1))]
        return folders

    def _day_folder(self, day: date) -> str:
        return os.path.join(self.root, f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}")

    def _names(self, folder: str) -> list[str]:
        """The folder's entries in name order, up to ``scan_limit`` read."""
        names: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if len(names) >= self.scan_limit:
                        log.warning(
                            "recordings: %s holds more than %d entries; the rest were not read"
                            " (recordings_scan_limit)",
                            folder,
                            self.scan_limit,
                        )
                        break
                    names.append(entry.name)
        except OSError:
            return []
        return sorted(names)

    def _safe(self, candidate: Path) -> Recording | None:
        """The candidate as a recording, if its real path is a regular file of a
        recording format inside the real ``recordings_dir``."""
        root = os.path.realpath(self.root)
        real = os.path.realpath(candidate)
        if os.path.commonpath([root, real]) != root or real == root:
            return None
        content_type = RECORDING_TYPES.get(os.path.splitext(real)[1].lower())
        if content_type is None:
            return None
        try:
            if not stat.S_ISREG(os.stat(real).st_mode):
                return None
        except OSError:
            return None
        return Recording(Path(real), content_type)
