"""LocalBroker: `kafkette serve` in a child process on a loopback port, for tests and scripts.

    with LocalBroker() as broker:          # a temporary data dir, removed at the end
        producer = Producer({"bootstrap.servers": broker.bootstrap_servers})

The broker picks a free port itself (`--port 0`) and reports it through `--ready-file`,
so two brokers started at once never race for one. `stop`, `kill` (SIGKILL) and
`start` again reuse the same port and data dir, as a crash test needs. Any keyword
argument is a `kafkette serve` setting: `LocalBroker(fsync="always")`; a list is a
repeated flag (`sasl_user=["alice:secret", "bob:pw"]`).

Secured listeners: `listeners=["SASL_SSL"]` (security protocols, each on a free loopback port;
`bootstrap(name)` gives each one's address) with the TLS and SASL settings, e.g.

    certs = create_certificates(tmp_path)          # kafkette.certs
    with LocalBroker(listeners=["SASL_SSL"], sasl_user=["alice:secret"], **certs.broker_settings()) as broker:
        Producer({**broker.client_config(), "transactional.id": "t"})

`client_config()` holds what a client of the first listener needs (librdkafka property names): the CA of
`ssl_cafile` and the first `sasl_user` with PLAIN (or SCRAM-SHA-512 if PLAIN is not enabled). The broker's
own requests (`create_topic`) use it too; `client_properties=` overrides it.

`LocalBroker(brokers=3, admin_api=True)` serves a simulated cluster of three brokers: node i on each
listener's port + i (`bootstrap_servers` and `bootstrap(name)` list them all); `cluster` takes them down and
up and moves leaders and coordinators.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from kafkette.admin_client import AdminApi
    from kafkette.cluster_control import ClusterControl
    from kafkette.faults import Faults, LoggedRequest

HOST = "127.0.0.1"


class BrokerStartError(RuntimeError):
    """The broker exited or did not become ready; the message ends with its last log lines."""


def free_port() -> int:
    """A port free on the loopback interface now, for a caller that must know it before start."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class LocalBroker:
    def __init__(self, data_dir: str | os.PathLike | None = None, *, port: int = 0,
                 start_timeout: float = 30.0, listeners: Sequence[str] = (),
                 client_properties: dict[str, str] | None = None, **settings: Any) -> None:
        """`data_dir` None: a temporary one, removed by close(). `port` 0: any free one, then kept.
        `listeners`: security protocols to listen with (default: one PLAINTEXT listener on `port`)."""
        if port == 0 and settings.get("advertised_port"):
            raise ValueError("with advertised_port set, pass port= too: the bound port is needed to restart")
        if "listener" in settings:
            raise ValueError("pass listeners=[\"SASL_SSL\", ...] (security protocols): LocalBroker picks the ports")
        self._scratch = None if data_dir is not None else Path(tempfile.mkdtemp(prefix="kafkette-"))
        self.data_dir = Path(data_dir) if data_dir is not None else Path(self._scratch or ".") / "data"
        self.port = port
        self.ports = {name.upper(): 0 for name in listeners}  # listener name -> bound port, once started
        self.settings = settings
        self._client_properties = client_properties
        self.start_timeout = start_timeout
        self.log_path = self.data_dir.with_name(self.data_dir.name + ".log")
        self._ready_path = self.data_dir.with_name(self.data_dir.name + ".ready")
        self.proc: subprocess.Popen | None = None
        self.http_address: str | None = None  # HOST:PORT of /metrics and /admin, when the broker serves them
        self._log: IO[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The first listener's address of every broker (node i listens on the port + i)."""
        return self._addresses(self.port)

    def bootstrap(self, listener: str) -> str:
        """The address of the listener of this security protocol, on every broker."""
        return self._addresses(self.ports[listener.upper()])

    def _addresses(self, port: int) -> str:
        return ",".join(f"{HOST}:{port + i}" for i in range(int(self.settings.get("brokers", 1))))

    @property
    def security_protocol(self) -> str:
        return next(iter(self.ports), "PLAINTEXT")

    def client_properties(self) -> dict[str, str]:
        """librdkafka properties of a client of the first listener (see the module's docstring)."""
        if self._client_properties is not None:
            return dict(self._client_properties)
        protocol = self.security_protocol
        properties = {"security.protocol": protocol}
        if protocol in ("SSL", "SASL_SSL") and self.settings.get("ssl_cafile"):
            properties["ssl.ca.location"] = str(self.settings["ssl_cafile"])
        users = self.settings.get("sasl_user") or ()
        if protocol.startswith("SASL_") and users:
            name, _, password = (users if isinstance(users, str) else list(users)[0]).partition(":")
            mechanisms = self.settings.get("sasl_enabled_mechanisms") or ("PLAIN",)
            mechanism = "PLAIN" if "PLAIN" in mechanisms else "SCRAM-SHA-512"
            properties |= {"sasl.mechanism": mechanism, "sasl.username": name, "sasl.password": password}
        return properties

    def client_config(self) -> dict[str, str]:
        """`bootstrap.servers` and the client properties: a confluent_kafka client's whole configuration."""
        return {"bootstrap.servers": self.bootstrap_servers, **self.client_properties()}

    @property
    def pid(self) -> int | None:
        proc = self._running()
        return proc.pid if proc is not None else None

    @property
    def running(self) -> bool:
        return self._running() is not None

    def _running(self) -> subprocess.Popen | None:
        return self.proc if self.proc is not None and self.proc.poll() is None else None

    def command(self) -> list[str]:
        args = [sys.executable, "-m", "kafkette", "serve", "--data-dir", str(self.data_dir),
                "--ready-file", str(self._ready_path)]
        if self.ports:
            for name, port in self.ports.items():
                args += ["--listener", f"{name}://{HOST}:{port}"]
        else:
            args += ["--host", HOST, "--port", str(self.port)]
        for key, value in self.settings.items():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                text = str(item).lower() if isinstance(item, bool) else str(item)
                args += [f"--{key.replace('_', '-')}", text]
        return args

    def start(self) -> LocalBroker:
        """Start the process and return once it accepts requests. Raises BrokerStartError."""
        if self.running:
            return self
        self._ready_path.unlink(missing_ok=True)
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        # The broker is defined by its arguments alone, not by KAFKETTE_* variables of the caller.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KAFKETTE_")}
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.port = self._wait_ready()
        return self

    def _wait_ready(self) -> int:
        deadline = time.monotonic() + self.start_timeout
        while True:
            try:
                lines = self._ready_path.read_text().splitlines()
            except FileNotFoundError:
                lines = []
            if lines:
                first, *rest = lines
                for line in rest:
                    if line.startswith("http="):  # the HTTP server's address: metrics, admin API
                        self.http_address = line[5:]
                    else:  # NAME://HOST:PORT of each listener, when there are several
                        name, _, address = line.partition("://")
                        self.ports[name] = int(address.rsplit(":", 1)[1])
                if len(self.ports) == 1:
                    self.ports[self.security_protocol] = int(first.rsplit(":", 1)[1])
                return self.port or int(first.rsplit(":", 1)[1])
            if self._running() is None:
                self._close_log()
                status = self.proc.returncode if self.proc is not None else None
                raise BrokerStartError(f"kafkette exited with status {status} during start-up: "
                                       f"{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerStartError(f"kafkette was not ready within {self.start_timeout:g} s: {self.log_tail()}")
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM: the broker flushes and closes its log; SIGKILL if it takes longer than `timeout`."""
        proc = self._running()
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is flushed beyond what the broker already wrote."""
        proc = self._running()
        if proc is not None:
            proc.kill()
            proc.wait(10)
        self._close_log()

    def restart(self) -> LocalBroker:
        self.stop()
        return self.start()

    def close(self) -> None:
        """Stop, and remove the data dir if it is a temporary one of our own."""
        self.stop()
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    @property
    def admin(self) -> AdminApi:
        """The broker's HTTP admin API (fault rules, request log, cluster control): start it with admin_api=True."""
        if self.http_address is None:
            raise RuntimeError("this broker serves no admin API: create the LocalBroker with admin_api=True")
        from kafkette.admin_client import AdminApi

        return AdminApi(self.http_address)

    @property
    def cluster(self) -> ClusterControl:
        """The simulated cluster (brokers=N): brokers down and up, leaders and coordinators moved; needs
        admin_api=True."""
        from kafkette.cluster_control import ClusterControl

        return ClusterControl(self.admin)

    @property
    def faults(self) -> Faults:
        """Fault rules (kafkette.faults): `with broker.faults.add(api="EndTxn", error="NOT_COORDINATOR"): ...`"""
        from kafkette.faults import Faults

        return Faults(self.admin)

    def requests(self, since: int = 0, api: str | int | None = None, client_id: str | None = None,
                 limit: int | None = None) -> list[LoggedRequest]:
        """The requests the broker received after sequence number `since`, oldest first (kafkette.faults)."""
        from kafkette.faults import read_requests

        return read_requests(self.admin, since, api, client_id, limit)

    def create_topic(self, name: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
        """Create a topic (CreateTopics, as an admin client would); returns its name."""
        from kafkette.client import create_topic

        create_topic(self.bootstrap_servers, name, partitions, config, security=self.client_security())
        return name

    def client_security(self) -> Any:
        """The first listener's client properties as kafkette.client takes them (None for plaintext)."""
        from kafkette.client_security import ClientSecurity

        properties = self.client_properties()
        return None if properties == {"security.protocol": "PLAINTEXT"} else ClientSecurity.from_properties(properties)

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"LocalBroker({self.bootstrap_servers}, {self.data_dir}, {state})"
