"""Request interceptors: what the fault rules, the request log and authorization hook into."""

from __future__ import annotations

import pytest

from kafkette.broker.dispatch import CloseConnection, Dispatcher


def handler(ctx, body):
    return f"handled {body}"


def test_without_interceptors_the_handler_answers():
    assert Dispatcher().call(handler, None, "x") == "handled x"


def test_interceptors_run_in_order_around_the_handler():
    seen = []
    dispatcher = Dispatcher()

    def outer(ctx, body, call_next):
        seen.append("outer")
        return call_next(ctx, body + "!") + " (outer)"

    def inner(ctx, body, call_next):
        seen.append("inner")
        return call_next(ctx, body) + " (inner)"

    dispatcher.interceptors += [outer, inner]
    assert dispatcher.call(handler, None, "x") == "handled x! (inner) (outer)"
    assert seen == ["outer", "inner"]


def test_an_interceptor_can_answer_without_the_handler_or_drop_the_connection():
    dispatcher = Dispatcher()
    dispatcher.interceptors.append(lambda ctx, body, call_next: "refused" if body == "bad" else call_next(ctx, body))
    assert dispatcher.call(handler, None, "bad") == "refused"
    assert dispatcher.call(handler, None, "good") == "handled good"

    def drop(ctx, body, call_next):
        raise CloseConnection("fault rule 1")

    dispatcher.interceptors.append(drop)
    with pytest.raises(CloseConnection):
        dispatcher.call(handler, None, "good")
