"""Fault rules and the request log of a broker, from Python, through its admin API (`--admin-api`).

    with kafka_broker.faults.add(api="EndTxn", error="COORDINATOR_NOT_AVAILABLE", count=2) as rule:
        producer.commit_transaction()          # the client retries through both errors
    sent = [r.api for r in kafka_broker.requests(client_id="my-app")]

A rule's fields are those of `POST /admin/faults` (the broker checks them and says what is wrong):
match on `api` (a name such as "EndTxn", or a key) and optionally `version`, `client_id`,
`transactional_id`, `group_id`, `topic`, `partition`, `broker`; do one of `error` (with
`scope="partitions"` for the matching partitions only), `drop="before"|"after"`, `delay_ms`,
`black_hole_ms`, `throttle_ms`; fire `count` times (None: always) from the `nth` matching call,
with `probability` and `seed`. See kafkette.broker.faults for what each does.

Standard library only, like `kafkette.admin_client`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from kafkette.admin_client import AdminApi, AdminApiError
from kafkette.broker.request_log import LoggedRequest


class FaultRule:
    """A rule as the broker last described it (`info`); leaving a `with` block removes it."""

    def __init__(self, faults: Faults, info: dict[str, Any]) -> None:
        self.faults = faults
        self.info = info
        self.removed = False

    @property
    def id(self) -> int:
        return self.info["id"]

    def refresh(self) -> FaultRule:
        """The rule as the broker sees it now (as it was when removed, once removed)."""
        if not self.removed:
            self.info = self.faults.admin.get(f"/faults/{self.id}")
        return self

    @property
    def fired(self) -> int:
        """How often the rule has fired: asked of the broker while the rule is there, the final count after."""
        return self.refresh().info["fired"]

    def remove(self) -> None:
        """Remove the rule, keeping its final counts; one already gone (cleared, or the broker restarted) is no
        error."""
        try:
            self.info = self.faults.admin.delete(f"/faults/{self.id}")
        except AdminApiError as e:
            if e.status != 404:
                raise
        self.removed = True

    def __enter__(self) -> FaultRule:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"FaultRule({self.info})"


class Faults:
    def __init__(self, admin: AdminApi) -> None:
        self.admin = admin

    def add(self, api: str | int, **rule: Any) -> FaultRule:
        """Add a rule (fields as in the module docstring). Raises AdminApiError (status 400) if it is wrong."""
        return FaultRule(self, self.admin.post("/faults", {"api": api, **rule}))

    def list(self) -> list[FaultRule]:
        return [FaultRule(self, info) for info in self.admin.get("/faults")["faults"]]

    def remove(self, rule_id: int) -> None:
        self.admin.delete(f"/faults/{rule_id}")

    def clear(self) -> int:
        """Remove every rule; returns how many there were."""
        return self.admin.delete("/faults")["removed"]



def read_requests(admin: AdminApi, since: int = 0, api: str | int | None = None, client_id: str | None = None,
                  limit: int | None = None) -> list[LoggedRequest]:
    """The broker's logged requests after sequence number `since`, oldest first, filtered as asked."""
    from urllib.parse import urlencode

    query = {"since": since, "api": api, "client_id": client_id, "limit": limit}
    answer = admin.get("/requests?" + urlencode({k: v for k, v in query.items() if v is not None}))
    names = [f.name for f in fields(LoggedRequest)]
    return [LoggedRequest(**{name: entry.get(name) for name in names}) for entry in answer["requests"]]
