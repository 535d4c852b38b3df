"""Kombu's filesystem broker, with message files that appear whole (the demo's and the suite's broker).

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
from kombu.transport import TRANSPORT_ALIASES, filesystem
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


def register() -> None:
    """Make this the transport of ``filesystem://`` URLs in this process (other schemes keep theirs)."""
    TRANSPORT_ALIASES["filesystem"] = f"{__name__}:Transport"
