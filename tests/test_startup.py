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
