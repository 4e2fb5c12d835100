"""The users SASL knows: PLAIN passwords and SCRAM credentials.

- `--sasl-user NAME:PASSWORD` (repeatable) and `--sasl-users-file PATH` (one `NAME:PASSWORD` a line, `#`
  comments) give PLAIN passwords, as Kafka's JAAS `user_NAME="PASSWORD"` options do, and SCRAM-SHA-256 and
  SCRAM-SHA-512 credentials (4096 iterations). They are settings: applied again at every start, never written.
- AlterUserScramCredentials (KIP-554; `kafkette users`) adds, changes and removes SCRAM credentials. Each change is
  appended to the hidden `__kafkette_scram_credentials` topic (salt, StoredKey, ServerKey and iterations only,
  never a password) before it is answered, and replayed at start.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import structlog

from kafkette.broker.internal_topic import InternalTopic, InternalTopicError
from kafkette.protocol import codec, scram
from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages.internal import SCRAM_CREDENTIAL_KEY, SCRAM_CREDENTIAL_VALUE
from kafkette.protocol.records import NewRecord, iter_records
from kafkette.protocol.scram import ScramCredential

log = structlog.get_logger("kafkette.users")
Key, Value = SCRAM_CREDENTIAL_KEY.Record, SCRAM_CREDENTIAL_VALUE.Record


def parse_user(text: str) -> tuple[str, str]:
    """("alice", "secret") of "alice:secret". Raises ValueError saying what is wrong."""
    name, colon, password = text.partition(":")
    if not colon or not name.strip() or not password:
        raise ValueError("expected NAME:PASSWORD, with a name and a password")
    return name.strip(), password


def read_users_file(path: Path) -> list[tuple[str, str]]:
    """The users of a --sasl-users-file. Raises ValueError naming the file and line."""
    users = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            try:
                users.append(parse_user(line.rstrip("\r")))
            except ValueError as e:
                raise ValueError(f"{path}, line {number}: {e}") from None
    return users


@dataclass(frozen=True)
class Description:
    """One user's answer to DescribeUserScramCredentials."""

    user: str
    error: ErrorCode = ErrorCode.NONE
    message: str | None = None
    credentials: tuple[tuple[int, int], ...] = ()  # (mechanism type, iterations)


@dataclass(frozen=True)
class Alteration:
    """One user's answer to AlterUserScramCredentials."""

    user: str
    error: ErrorCode = ErrorCode.NONE
    message: str | None = None


class Users:
    def __init__(self, static_users: Iterable[tuple[str, str]], topic: InternalTopic | None) -> None:
        self.static = dict(static_users)
        self.topic = topic
        self.scram: dict[tuple[str, str], ScramCredential] = {}  # (user, mechanism name) -> credential

    # ------------------------------------------------------------------ start

    def load(self) -> None:
        """Replay the credentials topic, then apply the users of the settings over it."""
        self.scram.clear()
        for _, batch in self.topic.replay() if self.topic is not None else ():
            for record in iter_records(batch):
                self._replay(record.key or b"", record.value)
        for name, password in self.static.items():
            for mechanism in scram.BY_NAME.values():
                self.scram[name, mechanism.name] = mechanism.new_credential(password)
        log.info("users loaded", scram_credentials=len(self.scram), plain_users=len(self.static))

    def _replay(self, key_bytes: bytes, value_bytes: bytes | None) -> None:
        key = codec.read_versioned(SCRAM_CREDENTIAL_KEY, key_bytes)
        mechanism = scram.BY_TYPE[key.mechanism].name
        if value_bytes is None:
            self.scram.pop((key.name, mechanism), None)
            return
        v = codec.read_versioned(SCRAM_CREDENTIAL_VALUE, value_bytes)
        self.scram[key.name, mechanism] = ScramCredential(v.salt, v.stored_key, v.server_key, v.iterations)

    # ------------------------------------------------------------------ authentication

    def check_plain(self, user: str, password: str) -> bool:
        expected = self.static.get(user)
        return expected is not None and hmac.compare_digest(expected.encode(), password.encode())

    def scram_credential(self, user: str, mechanism: str) -> ScramCredential | None:
        return self.scram.get((user, mechanism))

    def has_any(self) -> bool:
        return bool(self.static or self.scram)

    # ------------------------------------------------------------------ KIP-554

    def describe(self, users: list[str] | None) -> list[Description]:
        """Each user's mechanisms and iterations, as Kafka's ScramImage.describe answers; None: every user."""
        wanted: dict[str, bool] = {}  # user -> asked for twice
        for name in users or sorted({name for name, _ in self.scram}):
            wanted[name] = name in wanted
        results = []
        for name, twice in wanted.items():
            infos = tuple((m.type, c.iterations) for m in scram.BY_NAME.values()
                          if (c := self.scram.get((name, m.name))) is not None)
            if twice:
                message = f"Cannot describe SCRAM credentials for the same user twice in a single request: {name}"
                results.append(Description(name, ErrorCode.DUPLICATE_RESOURCE, message))
            elif not infos:
                message = f"Attempt to describe a user credential that does not exist: {name}"
                results.append(Description(name, ErrorCode.RESOURCE_NOT_FOUND, message))
            else:
                results.append(Description(name, credentials=infos))
        return results

    def alter(self, deletions: list[tuple[str, int]], upsertions: list[tuple[str, int, int, bytes, bytes]],
              now_ms: int) -> list[Alteration]:
        """Kafka's ScramControlManager.alterCredentials: each user at most once per request; all valid changes are
        written in one batch, then applied."""
        errors: dict[str, Alteration] = {}
        deletes: dict[str, tuple[str, int]] = {}
        upserts: dict[str, tuple[str, int, int, bytes, bytes]] = {}
        for deletion in deletions:
            name = deletion[0]
            if name in errors:
                continue
            if deletes.pop(name, None) is not None:
                errors[name] = _twice(name)
            elif (problem := self._deletion_problem(*deletion)) is not None:
                errors[name] = problem
            else:
                deletes[name] = deletion
        for upsertion in upsertions:
            name = upsertion[0]
            if name in errors:
                continue
            if deletes.pop(name, None) is not None or upserts.pop(name, None) is not None:
                errors[name] = _twice(name)
            elif (problem := _upsertion_problem(*upsertion[:3])) is not None:
                errors[name] = problem
            else:
                upserts[name] = upsertion
        records: list[NewRecord] = []
        changes: list[tuple[tuple[str, str], ScramCredential | None]] = []
        for name, mechanism_type in deletes.values():
            records.append(NewRecord(_key(name, mechanism_type), None))
            changes.append(((name, scram.BY_TYPE[mechanism_type].name), None))
        for name, mechanism_type, iterations, salt, salted_password in upserts.values():
            new = scram.BY_TYPE[mechanism_type].credential(salt, salted_password, iterations)
            value = Value(salt=salt, stored_key=new.stored_key, server_key=new.server_key, iterations=iterations)
            records.append(NewRecord(_key(name, mechanism_type), codec.write_versioned(SCRAM_CREDENTIAL_VALUE, 0, value)))
            changes.append(((name, scram.BY_TYPE[mechanism_type].name), new))
        done = [Alteration(name) for name in [*deletes, *upserts]]
        if records:
            try:
                self._write(records, now_ms)
            except InternalTopicError as e:
                failed = [Alteration(a.user, ErrorCode.UNKNOWN_SERVER_ERROR, f"the change could not be stored: {e}")
                          for a in done]
                return failed + list(errors.values())
        for key, credential in changes:
            if credential is None:
                self.scram.pop(key, None)
            else:
                self.scram[key] = credential
            log.info("SCRAM credential " + ("removed" if credential is None else "set"), user=key[0], mechanism=key[1])
        return done + list(errors.values())

    def _write(self, records: list[NewRecord], now_ms: int) -> None:
        if self.topic is None:
            raise InternalTopicError("(no credentials topic)", ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
        self.topic.append(records, now_ms)

    def _deletion_problem(self, name: str, mechanism_type: int) -> Alteration | None:
        problem = _name_and_mechanism_problem(name, mechanism_type)
        if problem is None and (name, scram.BY_TYPE[mechanism_type].name) not in self.scram:
            return Alteration(name, ErrorCode.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist")
        return problem


def _key(name: str, mechanism_type: int) -> bytes:
    return codec.write_versioned(SCRAM_CREDENTIAL_KEY, 0, Key(name=name, mechanism=mechanism_type))


def _twice(name: str) -> Alteration:
    return Alteration(name, ErrorCode.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request")


def _name_and_mechanism_problem(name: str, mechanism_type: int) -> Alteration | None:
    if not name:
        return Alteration(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Username must not be empty")
    if mechanism_type not in scram.BY_TYPE:
        return Alteration(name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism")
    return None


def _upsertion_problem(name: str, mechanism_type: int, iterations: int) -> Alteration | None:
    problem = _name_and_mechanism_problem(name, mechanism_type)
    if problem is not None:
        return problem
    mechanism = scram.BY_TYPE[mechanism_type]
    if iterations < mechanism.min_iterations:
        return Alteration(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too few iterations")
    if iterations > mechanism.max_iterations:
        return Alteration(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, "Too many iterations")
    return None
