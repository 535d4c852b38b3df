"""How long a request waits for Stripe, and when Lingshou stops asking for a while (checkout.gateway's HTTP).

A Stripe that accepts the connection and never answers held a shopper for 10 s x 3 attempts. Now:

- connecting is bounded apart from reading (``STRIPE_CONNECT_TIMEOUT_SECONDS``, ``STRIPE_TIMEOUT_SECONDS``);
- a refused or timed-out connection is retried (Stripe never saw the request), a read that timed out is not:
  Stripe may be acting on it, and the shopper's next attempt sends the same idempotency key anyway;
- after a call that found Stripe unreachable, ``breaker`` answers every call of this process at once for
  ``PAUSE_SECONDS`` (``GatewayUnavailable`` with ``retry_after``), then lets calls try again.

Webhooks are inbound and never pass here.
"""

from __future__ import annotations

import functools
from typing import NoReturn

import stripe
from circuitbreaker import CircuitBreaker

PAUSE_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 6.0


class BoundedRequestsClient(stripe.RequestsClient):
    """stripe's requests client that does not retry a read that timed out."""

    def _handle_request_error(self, e: Exception) -> NoReturn:
        if isinstance(e, self.requests.exceptions.ReadTimeout):
            raise stripe.APIConnectionError(
                f"Stripe did not answer in time (ReadTimeout: {e}).", should_retry=False
            ) from e
        super()._handle_request_error(e)


@functools.cache
def http_client(connect: float, read: float, pid: int) -> stripe.HTTPClient:
    """One per process (pid): a forked worker must not share its parent's keep-alive sockets.

    RequestsClient keeps a session per thread, so gunicorn's threads may share this object.
    """
    del pid  # only the cache key
    return BoundedRequestsClient(timeout=(connect, read))


def _unreachable(kind: type[BaseException], error: BaseException) -> bool:  # noqa: ARG001 - circuitbreaker's predicate
    # Network only: a 429 or a 500 is Stripe answering, and the next call may well succeed.
    return issubclass(kind, stripe.APIConnectionError)


breaker = CircuitBreaker(
    failure_threshold=1, recovery_timeout=PAUSE_SECONDS, expected_exception=_unreachable, name="stripe"
)
