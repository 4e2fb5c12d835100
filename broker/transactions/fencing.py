"""Error codes that depend on the request version (KafkaApis maps them at the edge, and so do we)."""

from kafkette.protocol.errors import ErrorCode


def fencing_error(error: ErrorCode, version: int, fenced_since: int) -> ErrorCode:
    """PRODUCER_FENCED exists on the wire only from `fenced_since`; older versions get INVALID_PRODUCER_EPOCH."""
    if error == ErrorCode.PRODUCER_FENCED and version < fenced_since:
        return ErrorCode.INVALID_PRODUCER_EPOCH
    return error
