"""Django's Redis cache that a stopped Redis cannot stall: reads miss, writes are dropped, for a few seconds.

Through core.outages' Redis breaker: the first failure costs one socket timeout, then this process skips
Redis until the pause is over. What reads the cache must live with that:

- DRF's throttles (the cache's readers) fail open: a miss is an empty history, so the limit is not enforced
  for those seconds (availability over the limit for a few seconds; the API stays up rather than answering 500).

``incr`` and ``decr`` keep raising: a counter that silently reads 0 would be a wrong number, not a miss.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from circuitbreaker import CircuitBreakerError
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from core.outages import REDIS_AWAY, redis_call

logger = logging.getLogger("lingshou.outages")

T = TypeVar("T")
_AWAY = (*REDIS_AWAY, CircuitBreakerError)


def _or(fallback: T, call: Callable[[], T], what: str) -> T:
    try:
        return redis_call(call)
    except _AWAY as error:
        if not isinstance(error, CircuitBreakerError):
            # Once per pause: while the breaker is open nothing reaches Redis, so nothing more is logged.
            logger.warning("cache_unavailable", extra={"operation": what, "cause": f"{type(error).__name__}: {error}"})
        return fallback


class RedisCache(DjangoRedisCache):
    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return _or(default, lambda: super(RedisCache, self).get(key, default, version), "get")

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return _or({}, lambda: super(RedisCache, self).get_many(keys, version), "get_many")

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return _or(False, lambda: super(RedisCache, self).has_key(key, version), "has_key")

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        # Not added: a caller using add() as a lock does not get it.
        return _or(False, lambda: super(RedisCache, self).add(key, value, timeout, version), "add")

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        _or(None, lambda: super(RedisCache, self).set(key, value, timeout, version), "set")

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        return _or(list(data), lambda: super(RedisCache, self).set_many(data, timeout, version), "set_many")

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        return _or(False, lambda: super(RedisCache, self).touch(key, timeout, version), "touch")

    def delete(self, key: Any, version: int | None = None) -> bool:
        return _or(False, lambda: super(RedisCache, self).delete(key, version), "delete")

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        _or(None, lambda: super(RedisCache, self).delete_many(keys, version), "delete_many")
