"""kafkette as a user installs it: the wheel (not editable) in a fresh venv, beside a project that
has its own `storage` and `broker` packages and tests through the `kafka_broker` and
`kafka_topic` fixtures, with and without pytest-xdist.

The wheels of the dependencies, at this venv's versions, are downloaded once into pytest's
cache (.pytest_cache) and installed from there with --no-index afterwards.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from kafkette import __version__

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "setup.py", "README.md", "kafkette", "broker", "protocol", "storage"]
PROJECT_NEEDS = ["pytest", "pytest-xdist", "confluent-kafka"]  # what the sample project installs itself
BUILD_NEEDS = ["setuptools>=68", "Cython>=3.0"]  # setup.py compiles protocol/record_scan.py

pytestmark = [pytest.mark.timeout(600), pytest.mark.kafkette_only("kafkette's wheel in a fresh venv")]

PROJECT_TESTS = '''
import os
import time

from confluent_kafka import Consumer, Producer, TopicPartition

from broker.server import NAME
from storage.files import SAVED


def test_the_projects_own_packages_are_importable():
    assert (SAVED, NAME) == ("the project's storage", "the project's broker")


def test_a_transaction_is_read_committed(kafka_broker, kafka_topic):
    record_worker(kafka_broker)
    producer = Producer({"bootstrap.servers": kafka_broker.bootstrap_servers,
                         "transactional.id": "tx-" + kafka_topic})
    producer.init_transactions(30)
    for values, commit in (([b"a", b"b"], True), ([b"aborted"], False), ([b"c"], True)):
        producer.begin_transaction()
        for value in values:
            producer.produce(kafka_topic, value)
        producer.commit_transaction(30) if commit else producer.abort_transaction(30)
    consumer = Consumer({"bootstrap.servers": kafka_broker.bootstrap_servers, "group.id": "g-" + kafka_topic,
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    consumer.assign([TopicPartition(kafka_topic, 0, 0)])
    got, deadline = [], time.monotonic() + 30
    while len(got) < 3 and time.monotonic() < deadline:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            got.append(message.value())
    consumer.close()
    assert got == [b"a", b"b", b"c"]


def test_a_second_transaction_on_the_same_broker(kafka_broker, kafka_topic):
    test_a_transaction_is_read_committed(kafka_broker, kafka_topic)


def record_worker(kafka_broker):
    with open(os.environ["RECORD"], "a") as f:
        f.write(f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')} {kafka_broker.bootstrap_servers}\\n")
'''


def pinned(names: list[str]) -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in names]


def runtime_dependencies() -> list[str]:
    requires = importlib.metadata.requires("kafkette") or []
    return [re.match(r"[A-Za-z0-9._-]+", r).group(0) for r in requires if "extra ==" not in r]


def run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def pip(*args: str | Path) -> subprocess.CompletedProcess:
    return run(sys.executable, "-m", "pip", "--disable-pip-version-check", *args)


@pytest.fixture(scope="module")
def wheelhouse(request: pytest.FixtureRequest) -> Path:
    """The wheels a fresh venv needs, pinned to this venv's versions; downloaded only the first time."""
    wanted = pinned(runtime_dependencies() + PROJECT_NEEDS) + BUILD_NEEDS
    house = Path(request.config.cache.mkdir("wheelhouse"))
    complete = house / f"complete-{hashlib.sha1(' '.join(wanted).encode()).hexdigest()[:12]}"
    if not complete.exists():
        pip("download", "--quiet", "--only-binary=:all:", "--dest", house, *wanted)
        complete.touch()
    return house


@pytest.fixture(scope="module")
def wheel(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built by pip as a user would, from a clean copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    pip("wheel", "--quiet", "--no-deps", "--no-index", "--find-links", wheelhouse, "--wheel-dir", dist, source)
    (built,) = dist.glob("kafkette-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the kafkette wheel and the sample project's own test dependencies."""
    venv = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    pip("--python", venv / "bin" / "python", "install", "--quiet", "--no-index", "--find-links", wheelhouse,
        wheel, *PROJECT_NEEDS)
    return venv


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project whose own top-level packages are named like kafkette's folders."""
    project = tmp_path_factory.mktemp("project")
    for package, text in (("storage", "SAVED = \"the project's storage\"\n"),
                          ("broker", "NAME = \"the project's broker\"\n")):
        (project / package).mkdir()
        (project / package / "__init__.py").write_text("")
    (project / "storage" / "files.py").write_text("SAVED = \"the project's storage\"\n")
    (project / "broker" / "server.py").write_text("NAME = \"the project's broker\"\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_orders.py").write_text(textwrap.dedent(PROJECT_TESTS))
    (project / "pytest.ini").write_text("[pytest]\npythonpath = .\n")
    return project


def test_the_wheel_installs_only_the_kafkette_package(wheel: Path, venv: Path):
    dist_info = f"kafkette-{__version__}.dist-info"
    with zipfile.ZipFile(wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    assert tops == {"kafkette", dist_info}
    assert "[pytest11]\nkafkette = kafkette.pytest_plugin" in entry_points
    site = next((venv / "lib").glob("python3*/site-packages"))
    installed = {line.split(",")[0].split("/")[0] for line in (site / dist_info / "RECORD").read_text().splitlines()}
    assert installed == {"kafkette", dist_info, ".."}  # "..": the `kafkette` script in bin/
    result = run(venv / "bin" / "kafkette", "--version")
    assert result.stdout == f"kafkette {__version__}\n"
    run(venv / "bin" / "python", "-c", "import kafkette.cli.dump, rich.table", cwd=venv)  # the client commands


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist -n 2"])
def test_a_projects_tests_use_the_fixtures(venv: Path, project: Path, workers: list[str], tmp_path: Path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KAFKETTE_", "PYTHON", "VIRTUAL_ENV")) or k == "PYTHONUNBUFFERED"}
    env["RECORD"] = str(tmp_path / "record.txt")
    result = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *workers,
                 cwd=project, env=env)
    assert "3 passed" in result.stdout, result.stdout
    brokers = dict(line.split(" ") for line in (tmp_path / "record.txt").read_text().splitlines())
    if workers:
        assert sorted(brokers) == ["gw0", "gw1"] and brokers["gw0"] != brokers["gw1"], brokers
    else:
        assert list(brokers) == ["main"]
