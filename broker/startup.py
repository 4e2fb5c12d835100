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


RUN_ATTEMPTS = 50  # tries at finding N consecutive free ports for the nodes of a simulated cluster


def bind_listener(host: str, port: int, backlog: int = 1024, *, settings: tuple[str, str] = ("host", "port"),
                  node: int | None = None) -> socket.socket:
    """A listening socket on the first address `host` resolves to; called before the data dir is touched.

    Messages name the settings the host and port came from: `settings` (host, port), and the node it is
    for, if several are served.
    """
    try:
        return listening_socket(host, port, backlog)
    except socket.gaierror as e:
        raise StartupError(f"cannot resolve host {host!r} ({e.strerror}): pass another {flag_name(settings[0])} "
                           f"or set {env_name(settings[0])}") from None
    except OSError as e:
        message = _bind_message(host, port, e, settings)
        if node is not None:
            message = f"node {node}: {message} (node i listens on the port + i)"
        raise StartupError(message) from None


def bind_nodes(host: str, port: int, count: int, *, settings: tuple[str, str] = ("host", "port")
               ) -> list[socket.socket]:
    """One listening socket per node 0..count-1, on consecutive ports: node i on `port` + i, or with port 0
    on the first run of `count` free ports found. One node: `bind_listener` alone."""
    if count == 1:
        return [bind_listener(host, port, settings=settings)]
    if port:
        socks: list[socket.socket] = []
        try:
            for i in range(count):
                if port + i > 65535:
                    raise StartupError(f"node {i}: port {port + i} is above 65535: pass a lower "
                                       f"{flag_name(settings[1])} (node i listens on the port + i)")
                socks.append(bind_listener(host, port + i, settings=settings, node=i))
        except BaseException:
            _close(socks)
            raise
        return socks
    for _ in range(RUN_ATTEMPTS):
        socks = [bind_listener(host, 0, settings=settings, node=0)]
        base = socks[0].getsockname()[1]
        try:
            while len(socks) < count and base + len(socks) <= 65535:
                socks.append(listening_socket(host, base + len(socks)))
        except OSError:
            pass
        if len(socks) == count:
            return socks
        _close(socks)
    raise StartupError(f"found no {count} consecutive free ports on {host} for {count} brokers: pass "
                       f"{flag_name(settings[1])} P to listen on P to P+{count - 1}")


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """A listening socket; raises OSError (socket.gaierror if `host` does not resolve)."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def _close(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


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
