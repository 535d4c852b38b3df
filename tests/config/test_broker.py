"""The filesystem broker (the demo's and the suite's): a consumer never reads a message that is still being written."""

from __future__ import annotations

import os
from pathlib import Path
from queue import Empty

import pytest
from django.conf import settings
from kombu import Connection

from config.broker import PARTIAL


def _connection(folder: Path) -> Connection:
    options = {key: str(folder) for key in ("data_folder_in", "data_folder_out", "control_folder")}
    return Connection(
        "filesystem://",
        transport_options=options | {"processed_folder": str(folder / "done"), "store_processed": False},
    )


def test_a_message_is_renamed_into_place_whole_and_read_once(tmp_path: Path) -> None:
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        channel._put("work", {"body": "x" * 10_000})
        names = os.listdir(tmp_path)
        assert [name for name in names if name.endswith(".work.msg")]
        assert not [n for n in names if n.endswith(PARTIAL)]
        assert channel._get("work") == {"body": "x" * 10_000}
        with pytest.raises(Empty):
            channel._get("work")


def test_messages_go_through_kombus_own_publishing(tmp_path: Path) -> None:
    """Published as Celery publishes (a producer's basic_publish, with its keyword arguments) and consumed."""
    with _connection(tmp_path) as connection:
        queue = connection.SimpleQueue("work")
        # Many within the same millisecond: they still come out in the order they went in.
        for n in range(50):
            queue.put({"n": n})
        received = [queue.get(timeout=1) for _ in range(50)]
        assert [message.payload for message in received] == [{"n": n} for n in range(50)]
        for message in received:
            message.ack()
        queue.close()


def test_a_message_still_being_written_is_not_taken(tmp_path: Path) -> None:
    """What a producer leaves while writing (kombu itself writes the final name first, empty) is never consumed."""
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        (tmp_path / f"1_half.work.msg{PARTIAL}").write_bytes(b'{"body": ')
        with pytest.raises(Empty):
            channel._get("work")
        assert (tmp_path / f"1_half.work.msg{PARTIAL}").exists()


def test_celery_uses_it_when_there_is_no_broker_server() -> None:
    from config.celery import app

    if not settings.CELERY_BROKER_URL.startswith("filesystem"):
        pytest.skip("the broker is a server here (CELERY_BROKER_URL)")
    with app.connection_for_write() as connection:
        assert type(connection.transport).__module__ == "config.broker"
    # Redis gets the ack that frees its slot (tests/config/test_broker_outage.py); other schemes keep their own.
    with Connection("redis://127.0.0.1:1/0") as connection:
        assert type(connection.transport).__name__ == "RedisTransport"
        assert type(connection.transport).__module__ == "config.broker"
    with Connection("amqp://127.0.0.1:1//") as connection:
        assert type(connection.transport).__module__ == "kombu.transport.pyamqp"
