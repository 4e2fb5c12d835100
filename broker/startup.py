"""What start-up does before and after the log is open: claim the port, announce readiness.

Errors are StartupError, whose message is the one line `kafkette serve` prints.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from kafkette.broker.config import env_name, flag_name


class StartupError(Exception):
    """The broker cannot start; the message says what is wrong and what to do."""


def bind_listener(host: str, port: int, backlog: int = 1024, *, settings: tuple[str, str] = ("host", "port")
                  ) -> socket.socket:
    """A listening socket on the first address `host` resolves to; called before the data dir is touched.

    Messages name the settings the host and port came from: `settings` (host, port).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise StartupError(f"cannot resolve host {host!r} ({e.strerror}): pass another {flag_name(settings[0])} "
                           f"or set {env_name(settings[0])}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError as e:
        sock.close()
        raise StartupError(_bind_message(host, port, e, settings)) from None
    sock.setblocking(False)
    return sock


def _bind_message(host: str, port: int, e: OSError, settings: tuple[str, str]) -> str:
    host_flag, port_flag = (flag_name(name) for name in settings)
    host_env, port_env = (env_name(name) for name in settings)
    if e.errno == errno.EADDRINUSE:
        return f"port {port} is in use on {host}: pass another {port_flag} or set {port_env}"
    if e.errno == errno.EACCES:
        return f"no permission to listen on port {port}: pass a port above 1023 with {port_flag} or {port_env}"
    if e.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: pass another {host_flag} or set {host_env}"
    return f"cannot listen on {host}:{port} ({e.strerror}): check {host_flag} and {port_flag}"


def write_ready_file(path: Path, text: str) -> None:
    """Write the ready file (its first line `host:port`) whole or not at all, so a reader never sees half."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(text + "\n")
        os.replace(partial, path)
    except OSError as e:
        raise StartupError(f"cannot write the ready file {path} ({e.strerror}): "
                           f"pass a writable path to --ready-file") from None
