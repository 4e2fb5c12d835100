"""How the process's open-file limit is shared between client connections and the log's files.

At start the soft RLIMIT_NOFILE is raised to the hard one, as the JVM running Kafka does
(-XX:+MaxFDLimit). Connections get --max-connections of it (0: a quarter), a few are kept for the
listening socket, the event loop and files opened for a moment (checkpoints, snapshots), and the
log's segment and index files share the rest through storage.handles.OPEN_FILES.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass

import structlog

from kafkette.broker.startup import StartupError

log = structlog.get_logger("kafkette.limits")
RESERVED = 64  # listening socket, epoll, the data-dir lock, stdio, worker threads, short-lived files
MIN_LOG_FILES = 64
MAX_RAISED = 1 << 20  # an "unlimited" hard limit is raised no further than this


@dataclass(frozen=True)
class Descriptors:
    limit: int  # the soft RLIMIT_NOFILE in force
    connections: int  # client connections served at once
    log_files: int  # segment and index files the log keeps open at once


def raise_open_file_limit() -> int:
    """Raise the soft open-file limit to the hard one; the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_RAISED if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as err:  # some sandboxes refuse; the soft limit stays
            log.info("cannot raise the open-file limit", soft=soft, hard=hard, error=str(err))
    return MAX_RAISED if soft == resource.RLIM_INFINITY else soft


def plan_descriptors(max_connections: int, limit: int) -> Descriptors:
    """Split `limit` descriptors; raises StartupError if the log would be left too few."""
    connections = max_connections or max(limit // 4, 1)
    log_files = limit - connections - RESERVED
    if log_files < MIN_LOG_FILES:
        raise StartupError(f"--max-connections {connections} leaves {max(log_files, 0)} of the {limit} open files "
                           f"the process may have for the log (at least {MIN_LOG_FILES} needed): lower "
                           f"--max-connections or raise the open-file limit (ulimit -n)")
    return Descriptors(limit, connections, log_files)
