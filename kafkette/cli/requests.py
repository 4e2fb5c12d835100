"""`kafkette requests`: the request log of a kafkette broker (`kafkette.broker.request_log`), from its admin API.

Each line is one request as it arrived, with the fault rule that answered it, if one did; pass
the last sequence number printed as `--since` to see only what came after.
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlencode

from kafkette.cli.common import Output, admin_api

COLUMNS = [("seq", "Seq"), ("time", "Time"), ("api", "Api"), ("version", "V"), ("client_id", "ClientId"),
           ("correlation_id", "CorrelationId"), ("peer", "Peer"), ("broker", "Broker"), ("rule", "Rule"),
           ("action", "Action")]


def requests(args: argparse.Namespace, out: Output) -> None:
    query = {"since": args.since, "api": args.api, "client_id": args.client_id, "limit": args.limit}
    with admin_api(args) as admin:
        answer = admin.get("/requests?" + urlencode({k: v for k, v in query.items() if v is not None}))
    if out.as_json:
        out.json(answer)
        return
    rows = [{**entry, "time": _clock(entry["time_ms"])} for entry in answer["requests"]]
    out.rows(COLUMNS, rows, empty="(no requests)")
    if answer["missed"]:
        out.text(f"{answer['missed']} earlier requests are no longer in the log (it keeps the newest ones)")
    out.text(f"next: --since {answer['last']}")


def _clock(time_ms: int) -> str:
    return time.strftime("%H:%M:%S", time.localtime(time_ms / 1000)) + f".{time_ms % 1000:03d}"
