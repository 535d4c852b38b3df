"""When a part Lingshou leans on is down: answer 503 with Retry-After at once, log the cause once, never hang.

A PostgreSQL restart, terminated backends or a full frame storage used to answer 500 (a crash in the logs)
and a stopped Redis made every request wait out its timeouts several times over. Here:

- ``outage_of(error)`` tells an outage (the database unreachable or gone mid-request, the disk full, Redis
  not answering, ``Unavailable`` raised by code that knows) from a bug; a deadlock or a serialization failure
  is no outage: the code that retries them keeps doing so, and one that escapes stays a 500.
- ``unavailable_response`` is the answer: ``{"error": {"code": "unavailable", ...}}`` under /api/ (core.api's
  exception handler uses ``unavailable_api_error``), templates/503.html elsewhere, both with Retry-After.
  ``OutageMiddleware`` gives it for a view's exception, core.errors.server_error for a middleware's.
- ``redis_breaker``: after the first Redis failure this process stops calling Redis for a few seconds
  (core.cache reads miss, config.celery skips the publish) instead of waiting out a timeout per call.

The breaker is ``circuitbreaker``'s: it keeps no lock around the call (pybreaker holds one for the whole
call, so gunicorn's threads would queue behind one timed-out Redis call after another).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from circuitbreaker import CircuitBreaker, CircuitBreakerError
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger("lingshou.outages")

T = TypeVar("T")

# How long a client should wait before trying again, per part: about the time each takes to come back.
RETRY_AFTER = {"database": 10, "storage": 60, "redis": 5, "payments": 30}
MESSAGES = {
    "database": "The database is not answering; please try again in a few seconds.",
    "storage": "The file storage is full or unavailable; please try again later.",
    "redis": "A background service is not answering; please try again in a few seconds.",
    "payments": "Payments are not answering; please try again in a minute.",
}

# SQLSTATEs of a database that is away, not of a statement that is wrong: connection exceptions (08),
# insufficient resources (53: too many connections, disk full), operator intervention (57P01 terminated,
# 57P02 crash shutdown, 57P03 cannot connect now). 40001/40P01 are left to the code that retries them.
_AWAY_STATES = ("08", "53", "57P")

# What redis-py raises for a Redis that is away (refused, reset, silent past the socket timeout).
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError)

# A process stops calling Redis for this long after a failure; a Redis that is back is used again after it.
REDIS_PAUSE_SECONDS = 5


class Unavailable(Exception):
    """A part is down: answer 503 and ask the client to come back after ``retry_after`` seconds."""

    def __init__(self, part: str, message: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message or MESSAGES.get(part, "A service is not answering; please try again later."))
        self.part = part
        self.message = str(self.args[0])
        self.retry_after = retry_after if retry_after is not None else RETRY_AFTER.get(part, 30)


@dataclass(frozen=True)
class _Away:
    part: str
    types: tuple[type[BaseException], ...]
    test: Callable[[BaseException], bool]


def _database_away(error: BaseException) -> bool:
    state = getattr(error.__cause__, "sqlstate", None)
    # No SQLSTATE: the connection broke or could not be made (psycopg reports no server answer).
    return state is None or str(state).startswith(_AWAY_STATES)


def _disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


_KINDS = (
    _Away("database", (OperationalError, InterfaceError), _database_away),
    _Away("storage", (OSError,), _disk_full),
    _Away("redis", (*REDIS_AWAY, BrokerError, CircuitBreakerError), lambda _: True),
)


def outage_of(error: BaseException | None) -> Unavailable | None:
    """The outage ``error`` (or an error it was raised from) stands for; None when it is a bug, not an outage."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, Unavailable):
            return error
        for kind in _KINDS:
            if isinstance(error, kind.types) and kind.test(error):
                return Unavailable(kind.part)
        error = error.__cause__ or error.__context__
    return None


def outage_log(request: HttpRequest, outage: Unavailable, error: BaseException) -> None:
    """One warning line naming the part and the cause: an outage is not a crash, and it has no traceback.

    Once per request: a middleware that touches the database again on the way out fails the same way.
    """
    request = getattr(request, "_request", request)  # DRF's Request wraps Django's
    if getattr(request, "outage_logged", False):
        return
    request.outage_logged = True  # type: ignore[union-attr]
    logger.warning(
        "unavailable",
        extra={
            "part": outage.part,
            "path": request.path,
            "cause": f"{type(error).__name__}: {error}"[:300],
            "request_id": getattr(request, "request_id", ""),
        },
    )


def unavailable_response(request: HttpRequest, outage: Unavailable) -> HttpResponse:
    """503 with Retry-After: the API's error shape under /api/, the standalone 503 page elsewhere."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse({"error": {"code": "unavailable", "message": outage.message}}, status=503)
    else:
        # Rendered without a request, like the 500 page: no context processor may touch the database.
        page = loader.get_template("503.html").render({"message": outage.message})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(outage.retry_after)
    # Django's own request log would add a second line, with a traceback, as for a crash.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class OutageMiddleware:
    """A view that failed because a part is down answers 503 with Retry-After instead of 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        outage = outage_of(exception)
        if outage is None:
            return None
        outage_log(request, outage, exception)
        return unavailable_response(request, outage)


def _redis_failed(kind: type[BaseException], error: BaseException) -> bool:  # noqa: ARG001 - circuitbreaker's predicate
    return issubclass(kind, (*REDIS_AWAY, BrokerError, ConnectionError, TimeoutError))


redis_breaker = CircuitBreaker(
    failure_threshold=1, recovery_timeout=REDIS_PAUSE_SECONDS, expected_exception=_redis_failed, name="redis"
)


def redis_call(call: Callable[[], T]) -> T:
    """``call`` through the Redis breaker: ``CircuitBreakerError`` at once while it is open."""
    if redis_breaker.opened:
        raise CircuitBreakerError(redis_breaker)
    with redis_breaker:
        return call()
