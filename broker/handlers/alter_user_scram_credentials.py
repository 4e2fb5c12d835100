"""AlterUserScramCredentials (KIP-554): add, change or remove users' SCRAM credentials, stored before answering."""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.alter_user_scram_credentials import (
    ALTER_USER_SCRAM_CREDENTIALS,
    AlterUserScramCredentialsRequest,
    AlterUserScramCredentialsResponse,
)

R = AlterUserScramCredentialsResponse


@handles(ALTER_USER_SCRAM_CREDENTIALS, versions=(0, 0))
def alter_user_scram_credentials(ctx: RequestContext, body: AlterUserScramCredentialsRequest) -> R:
    results = ctx.broker.users.alter(
        [(d.name, d.mechanism) for d in body.deletions],
        [(u.name, u.mechanism, u.iterations, bytes(u.salt), bytes(u.salted_password)) for u in body.upsertions],
        ctx.now_ms())
    return R(throttle_time_ms=0, results=[R.AlterUserScramCredentialsResult(
        user=r.user, error_code=r.error, error_message=r.message) for r in results])
