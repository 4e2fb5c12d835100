"""The HTTP admin API's frame (`--admin-api`): off by default, found through the ready file, JSON errors."""

from __future__ import annotations

import pytest

from kafkette.admin_client import AdminApi, AdminApiError
from kafkette.local_broker import LocalBroker


def test_the_admin_api_is_served_only_when_asked_for_and_lists_its_routes(tmp_path):
    with LocalBroker(tmp_path / "plain") as plain:
        assert plain.http_address is None
        with pytest.raises(RuntimeError, match="admin_api=True"):
            plain.admin.get()
    with LocalBroker(tmp_path / "data", admin_api=True) as broker:
        assert broker.http_address is not None and broker.http_address.startswith("127.0.0.1:")
        routes = broker.admin.get()["routes"]
        assert isinstance(routes, list) and all(r.split(" ", 1)[1].startswith("/admin/") for r in routes)
        with pytest.raises(AdminApiError) as missing:
            broker.admin.get("/no-such-thing")
        assert missing.value.status == 404
        address = broker.http_address
    with pytest.raises(AdminApiError) as gone:
        AdminApi(address, timeout=2).get()
    assert gone.value.status == 0 and "start the broker with --admin-api" in str(gone.value)
