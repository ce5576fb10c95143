"""Which process owns a reservation, and whether that process is still alive.

Why: a row still ``reserved`` means nothing was signed or sent yet. If the process that reserved
it is gone, nothing ever will be, so the budget it holds can be released at once instead of after
the 300 s abandonment window. The owner is ``host:pid:start`` where ``start`` is the process start
time from ``/proc`` (so a reused pid is not mistaken for the owner). Only owners on this host can be
checked; others keep the time-based rule.
"""

from __future__ import annotations

import functools
import os
import socket


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of the whole line: starttime


@functools.cache
def _host() -> str:
    return socket.gethostname()


def current_owner() -> str:
    """``host:pid:start`` of this process (computed per call: a forked child is another owner)."""
    pid = os.getpid()
    return f"{_host()}:{pid}:{_start_time(pid)}"


def owner_alive(owner: str | None) -> bool | None:
    """True/False for an owner on this host, None when it cannot be told (other host, no /proc)."""
    if not owner:
        return None
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != _host() or not parts[1].isdigit() or not parts[2]:
        return None
    pid, start = int(parts[1]), parts[2]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return None
    current = _start_time(pid)
    return current == start if current else None
