"""`kafkette serve` start-up: each failure is one line on stderr and exit status 2; --ready-file,
`kafkette wait` and `kafkette --version`; one broker per data dir."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kafkette import __version__
from kafkette.local_broker import LocalBroker, free_port
from kafkette.storage.lock import DataDirError, DataDirLock
from tests.clients import consume_assigned, produce_and_flush, values
from tests.conftest import unique

pytestmark = pytest.mark.kafkette_only("kafkette's start-up and its refusals")


def kafkette(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAFKETTE_")}
    return subprocess.run([sys.executable, "-m", "kafkette", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def assert_refused(result: subprocess.CompletedProcess, message: str) -> None:
    assert (result.returncode, result.stderr, result.stdout) == (2, message + "\n", "")


def test_a_busy_port_is_refused_before_the_data_dir_is_touched(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = kafkette("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"))
    assert_refused(result, f"port {port} is in use on 127.0.0.1: pass another --port or set KAFKETTE_PORT")
    assert not (tmp_path / "data").exists()


def test_a_data_dir_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    for data_dir in (tmp_path / "file", tmp_path / "file" / "below"):
        assert_refused(kafkette("serve", "--port", "0", "--data-dir", str(data_dir)),
                       f"data directory {data_dir} is a file (or lies under one): choose a directory")


def test_max_connections_leaving_the_log_too_few_open_files_is_refused(tmp_path):
    import resource

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    limit = hard if hard != resource.RLIM_INFINITY else 1 << 20  # what the broker raises its soft limit to
    result = kafkette("serve", "--port", "0", "--data-dir", str(tmp_path / "data"), "--max-connections", str(limit))
    assert_refused(result, f"--max-connections {limit} leaves 0 of the {limit} open files the process may have for "
                           f"the log (at least 64 needed): lower --max-connections or raise the open-file limit "
                           f"(ulimit -n)")
    assert not (tmp_path / "data").exists()


def test_an_unwritable_data_dir_is_refused(tmp_path):
    if os.geteuid() == 0:  # root writes through permission bits; sysfs refuses mkdir even to root
        data_dir, reason = Path("/sys/kafkette-test"), "Operation not permitted"
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        data_dir, reason = tmp_path / "ro" / "data", "Permission denied"
    assert_refused(kafkette("serve", "--port", "0", "--data-dir", str(data_dir)),
                   f"cannot write to data directory {data_dir} ({reason}): make it writable or choose another one")


@pytest.mark.parametrize("args, env, message", [
    ([], {"KAFKETTE_PORT": "abc"}, "invalid KAFKETTE_PORT=abc: expected an integer"),
    (["--port", "70000"], {}, "invalid --port 70000: must be between 0 and 65535"),
    (["--default-partitions", "0"], {}, "invalid --default-partitions 0: must be between 1 and 2147483647"),
    (["--retention-ms", "-5"], {}, "invalid --retention-ms -5: must be at least -1"),
    (["--log-level", "bogus"], {}, "invalid --log-level bogus: must be one of debug, info, warning, error"),
    (["--bogus"], {}, "kafkette: unrecognized arguments: --bogus (see kafkette --help)"),
    (["--port"], {}, "kafkette serve: argument --port: expected one argument (see kafkette serve --help)"),
])
def test_invalid_settings_are_refused_in_one_line(tmp_path, args, env, message):
    assert_refused(kafkette("serve", "--data-dir", str(tmp_path / "data"), *args, env=env), message)
    assert not (tmp_path / "data").exists()


def test_the_traceback_comes_only_with_log_level_debug(tmp_path):
    (tmp_path / "file").touch()
    result = kafkette("serve", "--port", "0", "--data-dir", str(tmp_path / "file"), "--log-level", "debug")
    assert result.returncode == 2
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.endswith(f"data directory {tmp_path / 'file'} is a file (or lies under one): "
                                  f"choose a directory\n")


def test_version():
    result = kafkette("--version")
    assert (result.returncode, result.stdout) == (0, f"kafkette {__version__}\n")


def test_ready_file_holds_the_address_while_serving_and_wait_finds_it(tmp_path):
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "kafkette", "serve", "--port", "0", "--data-dir",
                             str(tmp_path / "data"), "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        waited = kafkette("wait", "--bootstrap-server", "127.0.0.1:1", "--timeout", "0.3")
        deadline = time.monotonic() + 15
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        address = ready.read_text()
        assert address.startswith("127.0.0.1:") and address.endswith("\n")
        assert int(address.strip().rsplit(":", 1)[1]) > 0
        found = kafkette("wait", "--bootstrap-server", address.strip(), "--timeout", "10")
    finally:
        proc.terminate()
        proc.wait(10)
    assert (found.returncode, found.stderr) == (0, "")
    assert waited.returncode == 1
    assert waited.stderr.startswith("kafkette wait: no broker answered Metadata at 127.0.0.1:1 within 0.3 s")
    assert not ready.exists(), "a clean stop removes the ready file"


def test_a_lock_is_exclusive_until_released(tmp_path):
    first = DataDirLock.acquire(tmp_path / "data")
    with pytest.raises(DataDirError, match=rf"in use by another broker \(pid {os.getpid()}\)"):
        DataDirLock.acquire(tmp_path / "data")
    first.release()
    DataDirLock.acquire(tmp_path / "data").release()


def test_a_second_broker_on_a_live_data_dir_is_refused_and_the_first_keeps_its_writes(tmp_path):
    with LocalBroker(tmp_path / "data") as first:
        topic = first.create_topic(unique("locked"))
        sent = [b"acked-%d" % i for i in range(3)]
        produce_and_flush(first.bootstrap_servers, topic, [{"value": v} for v in sent])
        second = kafkette("serve", "--port", str(free_port()), "--data-dir", str(first.data_dir))
        assert_refused(second, f"data directory {first.data_dir} is in use by another broker (pid {first.pid}): "
                               f"stop it or choose another data directory")
        first.kill()  # no clean close either: what was acknowledged must be in the log already
        first.start()
        assert values(consume_assigned(first.bootstrap_servers, topic, len(sent))) == sent


def test_a_tls_listener_without_a_certificate_is_refused_in_one_line(tmp_path):
    assert_refused(kafkette("serve", "--listener", "SASL_SSL://127.0.0.1:0", "--data-dir", str(tmp_path / "data")),
                   "listener SASL_SSL://127.0.0.1:0 speaks TLS and needs a certificate: pass --ssl-certfile PATH and "
                   "--ssl-keyfile PATH (`kafkette certs DIR` makes a set for localhost)")
    assert not (tmp_path / "data").exists()


def test_a_certificate_that_does_not_load_is_refused_in_one_line(tmp_path):
    (tmp_path / "broker.pem").write_text("not a certificate\n")
    assert_refused(kafkette("serve", "--listener", "SSL://127.0.0.1:0", "--ssl-certfile", str(tmp_path / "broker.pem"),
                            "--data-dir", str(tmp_path / "data")),
                   f"cannot load the certificate {tmp_path / 'broker.pem'} or its key (in the same file) "
                   f"([SSL] PEM lib): pass a PEM certificate with --ssl-certfile and its unencrypted key "
                   f"with --ssl-keyfile (`kafkette certs DIR` makes them)")
    assert not (tmp_path / "data").exists()


def test_checking_client_certificates_needs_their_ca(tmp_path):
    assert_refused(kafkette("serve", "--ssl-client-auth", "required", "--data-dir", str(tmp_path / "data")),
                   "invalid --ssl-client-auth required: client certificates are checked against the CA of "
                   "--ssl-cafile PATH; pass it")


def test_metadata_advertises_the_listener_a_client_came_through(tmp_path):
    from kafkette.client import metadata

    port, ready = free_port(), tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-m", "kafkette", "serve", "--listener", f"PLAINTEXT://127.0.0.1:{port}",
                             "--advertised-listener", "PLAINTEXT://broker.example:19092", "--data-dir",
                             str(tmp_path / "data"), "--ready-file", str(ready)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.read_text() == "broker.example:19092\n"
        answer = metadata(f"127.0.0.1:{port}")
    finally:
        proc.terminate()
        proc.wait(10)
    assert [(b.node_id, b.host, b.port) for b in answer.brokers] == [(1, "broker.example", 19092)]


def busy_port_after_a_free_one() -> socket.socket:
    """A listening socket on a port P whose port P - 1 is free (at the time of asking)."""
    for _ in range(20):
        busy = socket.create_server(("127.0.0.1", 0))
        try:
            socket.create_server(("127.0.0.1", busy.getsockname()[1] - 1)).close()
            return busy
        except OSError:
            busy.close()
    raise AssertionError("no free port found below a busy one in 20 tries")


def test_a_busy_port_of_one_node_of_a_cluster_is_refused_naming_the_node(tmp_path):
    with busy_port_after_a_free_one() as busy:
        port = busy.getsockname()[1]
        result = kafkette("serve", "--brokers", "3", "--port", str(port - 1), "--data-dir", str(tmp_path / "data"))
    assert_refused(result, f"node 1: port {port} is in use on 127.0.0.1: pass another --port or set KAFKETTE_PORT "
                           f"(node i listens on the port + i)")
    assert not (tmp_path / "data").exists()


def test_kafkette_certs_writes_a_set_says_how_to_use_it_and_keeps_it(tmp_path):
    made = kafkette("certs", str(tmp_path / "certs"))
    assert made.returncode == 0, made.stderr
    assert f"--ssl-certfile {tmp_path / 'certs' / 'broker.pem'}" in made.stdout
    assert f"ssl.ca.location={tmp_path / 'certs' / 'ca.pem'}" in made.stdout
    assert oct((tmp_path / "certs" / "broker-key.pem").stat().st_mode & 0o777) == "0o600"
    again = kafkette("certs", str(tmp_path / "certs"))
    assert (again.returncode, again.stderr) == (1, f"kafkette certs: {tmp_path / 'certs'} already holds ca.pem, "
                                                   f"broker.pem, broker-key.pem, client.pem, client-key.pem; pass "
                                                   f"--force to replace them\n")
