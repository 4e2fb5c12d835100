"""ApiVersions: what this broker serves, read from the handler registry."""

from kafkette.broker.context import RequestContext
from kafkette.broker.registry import HANDLERS, handles
from kafkette.protocol.messages.api_versions import API_VERSIONS, ApiVersionsRequest, ApiVersionsResponse

R = ApiVersionsResponse


@handles(API_VERSIONS, versions=(0, 3))
def api_versions(ctx: RequestContext, body: ApiVersionsRequest) -> ApiVersionsResponse:
    keys = [R.ApiVersion(api_key=h.api.key, min_version=h.advertised_min, max_version=h.versions[1])
            for h in sorted(HANDLERS.values(), key=lambda h: h.api.key)]
    return R(error_code=0, api_keys=keys, throttle_time_ms=0)
