"""DescribeUserScramCredentials (KIP-554): each user's SCRAM mechanisms and iterations, never the keys."""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import handles
from kafkette.protocol.messages.describe_user_scram_credentials import (
    DESCRIBE_USER_SCRAM_CREDENTIALS,
    DescribeUserScramCredentialsRequest,
    DescribeUserScramCredentialsResponse,
)

R = DescribeUserScramCredentialsResponse


@handles(DESCRIBE_USER_SCRAM_CREDENTIALS, versions=(0, 0))
def describe_user_scram_credentials(ctx: RequestContext, body: DescribeUserScramCredentialsRequest) -> R:
    users = None if body.users is None else [u.name for u in body.users]
    results = [R.DescribeUserScramCredentialsResult(
        user=d.user, error_code=d.error, error_message=d.message,
        credential_infos=[R.CredentialInfo(mechanism=m, iterations=i) for m, i in d.credentials])
        for d in ctx.broker.users.describe(users)]
    return R(throttle_time_ms=0, error_code=0, error_message=None, results=results)
