"""What /proc says about a process: CPU seconds, resident memory, open files."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from typing import Final

CLOCK_TICKS: Final = os.sysconf("SC_CLK_TCK")
PAGE_KB: Final = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True, slots=True)
class Sample:
    cpu: float
    """utime + stime, in seconds."""
    rss_kb: int
    fds: int


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as file:
        text = file.read()
    # The command name may hold spaces and parentheses: split after its last ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as file:
        return int(file.read().split()[1]) * PAGE_KB


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def sample(pid: int) -> Sample:
    return Sample(cpu_seconds(pid), rss_kb(pid), open_fds(pid))


def raise_nofile() -> int:
    """Lift the soft open-files limit to the hard one; returns the new limit.

    Thousands of held polls need a descriptor each, on both sides.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft
