"""Internal errors, and the one place that maps an error to the code a request version may carry.

Coordinators answer with the newest codes (PRODUCER_FENCED, GROUP_ID_NOT_FOUND);
older request versions don't know them, and Kafka's KafkaApis substitutes the
code those clients understand at the edge. So does `wire_error`.
"""

from __future__ import annotations

from kafkette.protocol.errors import ErrorCode
from kafkette.protocol.messages import (
    ADD_OFFSETS_TO_TXN,
    ADD_PARTITIONS_TO_TXN,
    END_TXN,
    INIT_PRODUCER_ID,
    OFFSET_COMMIT,
)
from kafkette.protocol.schema import Api

E = ErrorCode


class IllegalTransition(RuntimeError):
    """A transition a state machine does not allow: a coordinator bug, never a client error."""


# (API key, error) -> (first version that carries the error, the code older versions get instead)
_INTRODUCED: dict[tuple[int, ErrorCode], tuple[int, ErrorCode]] = {
    (INIT_PRODUCER_ID.key, E.PRODUCER_FENCED): (4, E.INVALID_PRODUCER_EPOCH),
    (ADD_PARTITIONS_TO_TXN.key, E.PRODUCER_FENCED): (2, E.INVALID_PRODUCER_EPOCH),
    (ADD_OFFSETS_TO_TXN.key, E.PRODUCER_FENCED): (2, E.INVALID_PRODUCER_EPOCH),
    (END_TXN.key, E.PRODUCER_FENCED): (2, E.INVALID_PRODUCER_EPOCH),
    (OFFSET_COMMIT.key, E.GROUP_ID_NOT_FOUND): (9, E.ILLEGAL_GENERATION),
}


def wire_error(api: Api, version: int, error: ErrorCode) -> ErrorCode:
    """The code to put on the wire for `error` in a response to `api` at `version`."""
    introduced = _INTRODUCED.get((api.key, error))
    if introduced is not None and version < introduced[0]:
        return introduced[1]
    return error
