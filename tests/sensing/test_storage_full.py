"""A full frame storage (ENOSPC, a real tmpfs filled to the brim) answers 503 with Retry-After: no frame row,
logged once as a warning, and the camera's retry goes through once there is room again."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_django import Settings

from tests.sensing import shelf
from tests.sensing.conftest import Registered, frames_of, upload

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(os.geteuid() != 0 or shutil.which("mount") is None, reason="mounts a tmpfs: needs root"),
]

FRAME = shelf.jpeg(shelf.shelf({"s1": 4, "s2": 4}))


@pytest.fixture
def full_media(settings: Settings, tmp_path: Path) -> Iterator[Path]:
    """MEDIA_ROOT on a tmpfs with no room left for a frame."""
    root = tmp_path / "full"
    root.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(root)], check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (root / "sensing").mkdir()
        filler = root / "filler"
        with filler.open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError as error:
                assert error.errno == errno.ENOSPC  # noqa: PT017 - the loop ends only this way
        settings.MEDIA_ROOT = str(root)
        yield root
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)


def test_a_frame_on_a_full_storage_is_refused_with_503_and_leaves_no_row(
    registered: Registered, full_media: Path, caplog: pytest.LogCaptureFixture
) -> None:
    response = upload(registered.client(), 9, FRAME)

    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "60"
    assert response.json() == {
        "error": {"code": "unavailable", "message": "The file storage is full or unavailable; please try again later."}
    }
    assert frames_of(registered.camera) == []
    # Logged once, as the outage it is, not as a crash.
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= 30] == [
        ("lingshou.outages", "WARNING", "unavailable")
    ]
    # Room again: the camera's retry of the same frame is accepted.
    (full_media / "filler").unlink()
    assert upload(registered.client(), 9, FRAME).status_code == 202
    assert len(frames_of(registered.camera)) == 1
