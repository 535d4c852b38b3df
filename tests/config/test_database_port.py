"""The embedded PostgreSQL keeps its port across a restart, although the stopped server's connections
leave that port in TIME_WAIT (the clients' URLs name the port)."""

from __future__ import annotations

import socket

from config.database import _free_port


def test_a_port_left_in_time_wait_by_a_stopped_server_is_still_free_for_it() -> None:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    # The server closes first (as PostgreSQL's fast shutdown does): its side of the port is in TIME_WAIT.
    accepted.close()
    client.recv(1)
    client.close()
    server.close()
    assert _free_port(port) == port
