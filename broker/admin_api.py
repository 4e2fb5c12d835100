"""The HTTP admin API (`--admin-api`): JSON routes under /admin on the broker's HTTP server.

Off unless asked for, and on loopback like the metrics port it shares. Features
(fault rules, the request log, the simulated cluster) each contribute routes
through `ADMIN_ROUTES`; `GET /admin` lists what is served. Clients: the CLI and
the pytest fixture, through `kafkette.admin_client`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web

if TYPE_CHECKING:
    from kafkette.broker.http_server import HttpServer
    from kafkette.broker.state import Broker

JsonHandler = Callable[["Broker", web.Request], Awaitable[Any]]
# (method, path under /admin, handler) per feature; a handler returns what goes back as JSON.
ADMIN_ROUTES: list[tuple[str, str, JsonHandler]] = []


class AdminError(Exception):
    """A request the admin API refuses: answered with `status` and {"error": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def admin_route(method: str, path: str) -> Callable[[JsonHandler], JsonHandler]:
    """Register a JSON handler for `method /admin<path>`."""

    def register(handler: JsonHandler) -> JsonHandler:
        ADMIN_ROUTES.append((method, path, handler))
        return handler

    return register


def add_admin_routes(http: HttpServer, broker: Broker) -> None:
    for method, path, handler in ADMIN_ROUTES:
        http.add_route(method, "/admin" + path, _json(broker, handler))
    http.add_route("GET", "/admin", _index)


def _json(broker: Broker, handler: JsonHandler) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def serve(request: web.Request) -> web.Response:
        try:
            return web.json_response(await handler(broker, request))
        except AdminError as e:
            return web.json_response({"error": str(e)}, status=e.status)
        except json.JSONDecodeError as e:
            return web.json_response({"error": f"the body is not JSON: {e}"}, status=400)

    return serve


async def _index(_request: web.Request) -> web.Response:
    return web.json_response({"routes": [f"{method} /admin{path}" for method, path, _ in ADMIN_ROUTES]})
