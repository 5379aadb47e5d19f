"""A process's memory as Linux counts it (``/proc/<pid>/status``), for the bench's measurements.

Kept apart from the load test and the ingest child that both read it: the child imports it at the
end of a measured load, so it imports nothing.
"""

from __future__ import annotations


def memory_mb(pid: int | str = "self", field_name: str = "VmRSS") -> float | None:
    """``field_name`` of the process ``pid`` (``VmRSS``: resident now; ``VmHWM``: its peak since it
    started), in MiB; None when the process or ``/proc`` is not there."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None
