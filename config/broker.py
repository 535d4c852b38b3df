"""Kombu's transports as Lingshou needs them: the filesystem broker with message files that appear whole (the
demo's and the suite's broker), and Redis (production's) with an ack that never costs the worker its slot.

Redis: kombu's ack first removes the message from Redis's unacked index and only then frees the worker's
prefetch slot; when Redis does not answer (stopped, failing over) the removal raises ("Couldn't ack"), the
slot is never freed, and a worker whose slots are all lost that way stops taking tasks for good (measured
under bench/soak.py: the analytics worker, concurrency 1, consumed nothing after a 10 s Redis stop while its
queue grew by 14 tasks a second). Here the slot is freed either way; the message left in Redis's unacked
index is delivered again after the visibility timeout, and every task is idempotent.

Filesystem:
Kombu writes a message straight into the queue folder under its final name, and a consumer
may move and read that file before the producer has written into it: an empty message, and
the worker stops (seen on a busy machine). Here a message is written under a name no consumer
picks up and renamed into place, which is atomic on one filesystem. Production uses Redis.
``config.celery`` makes it the transport of every ``filesystem://`` URL.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic_ns
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, redis, virtual
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

# A consumer takes only files named <time>_<uuid>.<queue>.msg; this suffix keeps it off a file being written.
PARTIAL = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:  # type: ignore[override]  # noqa: ARG002 - kombu types it two ways
        """Put the message on the queue: written in full under a partial name, then renamed to its own."""
        # Consumers take files in name order: the clock in nanoseconds, zero-padded, so that two messages
        # put in the same millisecond keep their order and a longer uptime never sorts before a shorter one.
        name = os.path.join(self.data_folder_out, f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg")
        try:
            with open(name + PARTIAL, "wb") as file:
                file.write(str_to_bytes(dumps(message)))
            os.replace(name + PARTIAL, name)
        except OSError as error:
            raise ChannelError(f"Cannot add file {name!r} to directory") from error


class Transport(filesystem.Transport):
    Channel = Channel


class RedisQoS(redis.QoS):
    def ack(self, delivery_tag: Any) -> None:
        """Remove the message from Redis's unacked index, and free its prefetch slot even if Redis fails."""
        try:
            self._remove_from_indices(delivery_tag).execute()  # type: ignore[attr-defined]  # kombu's, untyped
        finally:
            virtual.QoS.ack(self, delivery_tag)


class RedisChannel(redis.Channel):
    QoS = RedisQoS


class RedisTransport(redis.Transport):
    Channel = RedisChannel


def register() -> None:
    """Make these the transports of ``filesystem://`` and ``redis://`` URLs in this process."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
    TRANSPORT_ALIASES["redis"] = TRANSPORT_ALIASES["rediss"] = f"{__name__}:RedisTransport"
