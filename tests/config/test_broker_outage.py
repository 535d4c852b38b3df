"""A Redis that stops answering (SIGSTOP: the connection stays open, nothing replies) fails a task's
publish and a cache read within seconds; redis-py's default is to wait forever, so every request that
enqueued a task or read a throttle hung for as long as the broker was away."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from celery import Celery
from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

import bench._common as common

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")

# A request should fail (or finish) well within this; the load-and-fault bench calls longer "hung".
FAST_S = 5.0


@pytest.fixture
def stopped_redis() -> Iterator[str]:
    """A private redis-server that has answered once and is then stopped (SIGSTOP); yields its URL."""
    with common.redis_server() as (server, port):
        url = f"redis://127.0.0.1:{port}"
        server.send_signal(signal.SIGSTOP)
        try:
            yield url
        finally:
            server.send_signal(signal.SIGCONT)


def _seconds(call: Callable[[], object], limit: float) -> tuple[float, BaseException | None]:
    """How long ``call`` took and what it raised; ``limit`` + 1 s when it was still waiting then."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except Exception as error:  # noqa: BLE001 - the failure is the answer
            outcome.append(error)
        else:
            outcome.append(None)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        return limit + 1, None
    return time.monotonic() - started, outcome[0]


def test_a_task_sent_to_a_stopped_broker_fails_within_seconds(
    stopped_redis: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Celery prefers the environment's CELERY_BROKER_URL (CI's own Redis) to the app's broker_url.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    app = Celery("outage", set_as_current=False)
    # Production's Redis broker options (the suite's own broker may be the filesystem one).
    options: dict[str, object] = {
        "broker_url": f"{stopped_redis}/0",
        "broker_transport_options": {"visibility_timeout": 3600, **getattr(settings, "REDIS_SOCKET_OPTIONS", {})},
    }
    if hasattr(settings, "CELERY_TASK_PUBLISH_RETRY_POLICY"):
        options["task_publish_retry_policy"] = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    app.conf.update(options)
    seconds, error = _seconds(lambda: app.send_task("analytics.tasks.order_paid_apply", args=[1, 1]), 3 * FAST_S)
    assert seconds < FAST_S, f"the publish was still waiting after {seconds:.1f} s"
    # Failed for the caller to handle (on_commit(robust=True) logs it; a sweep sends it again).
    assert isinstance(error, OperationalError | RedisError | OSError), repr(error)


def test_a_cache_read_from_a_stopped_redis_fails_within_seconds(stopped_redis: str) -> None:
    cache = RedisCache(f"{stopped_redis}/1", {"OPTIONS": dict(getattr(settings, "REDIS_SOCKET_OPTIONS", {}))})
    seconds, error = _seconds(lambda: cache.get("throttle_user_1"), 3 * FAST_S)
    assert seconds < FAST_S, f"the cache read was still waiting after {seconds:.1f} s"
    assert isinstance(error, RedisError), repr(error)


def test_an_ack_that_redis_does_not_answer_still_frees_the_workers_prefetch_slot() -> None:
    """A worker with one slot (concurrency 1, prefetch 1) whose ack met a stopped Redis took no task ever again
    (kombu frees the slot only after Redis answers); the slot is freed and the message waits in Redis's unacked
    index for its visibility timeout."""
    from kombu import Connection

    options = {"visibility_timeout": 300, **getattr(settings, "REDIS_SOCKET_OPTIONS", {})}
    with (
        common.redis_server() as (server, port),
        Connection(f"redis://127.0.0.1:{port}/0", transport_options=options) as conn,
    ):
        queue = conn.SimpleQueue("slots")
        queue.consumer.qos(prefetch_count=1)
        queue.put({"n": 1})
        queue.put({"n": 2})
        first = queue.get(timeout=5)
        assert first.payload == {"n": 1}
        assert not queue.channel.qos.can_consume()  # the one slot is taken
        server.send_signal(signal.SIGSTOP)
        try:
            seconds, error = _seconds(first.ack, 3 * FAST_S)
        finally:
            server.send_signal(signal.SIGCONT)
        assert seconds < FAST_S
        assert isinstance(error, RedisError | OSError), repr(error)
        assert queue.channel.qos.can_consume()
        assert queue.get(timeout=5).payload == {"n": 2}
        assert queue.channel.client.hlen("unacked") >= 1  # the first is delivered again after the timeout
        queue.close()
