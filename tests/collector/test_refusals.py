"""The store refuses in domain terms; the HTTP API gives each refusal its status code."""

from __future__ import annotations

from secscan.collector.api import STATUS_OF, status_of
from secscan.collector.refusals import Outcome, Refusal


def test_every_refusal_has_a_status_and_only_an_internal_one_is_retried() -> None:
    assert set(STATUS_OF) == set(Refusal)
    # the agent keeps a report spooled on 5xx, 408 and 429 and drops it on any other 4xx
    retried = {r for r, status in STATUS_OF.items() if status >= 500 or status in (408, 429)}
    assert retried == {Refusal.internal}


def test_status_of_an_outcome() -> None:
    assert status_of(Outcome("accepted", "r1", "host")) == 200
    assert status_of(Outcome("duplicate", "r1", "host")) == 200
    assert status_of(Outcome.rejected(Refusal.unauthorised, "token revoked")) == 401
    assert status_of(Outcome.rejected(Refusal.forbidden, "another unit")) == 403
    assert status_of(Outcome.rejected(Refusal.conflict, "other content")) == 409
    assert status_of(Outcome.rejected(Refusal.too_large, "over the limit")) == 413
