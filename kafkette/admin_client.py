"""A client of the broker's HTTP admin API (`kafkette serve --admin-api`): JSON over loopback HTTP.

Standard library only, so the pytest plugin and the CLI can use it without aiohttp.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class AdminApiError(Exception):
    """The admin API refused a request (`status`), or could not be reached (`status` 0)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class AdminApi:
    def __init__(self, address: str, timeout: float = 10.0) -> None:
        """`address` is the HTTP server's HOST:PORT."""
        self.base = f"http://{address}/admin"
        self.timeout = timeout

    def get(self, path: str = "") -> Any:
        return self._call("GET", path, None)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("POST", path, body)

    def delete(self, path: str) -> Any:
        return self._call("DELETE", path, None)

    def _call(self, method: str, path: str, body: Any) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read()).get("error", e.reason)
            except ValueError:
                message = str(e.reason)
            raise AdminApiError(e.code, f"{method} {path or '/'}: {message}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise AdminApiError(0, f"no admin API answers at {self.base}: {reason}; "
                                   f"start the broker with --admin-api") from None
