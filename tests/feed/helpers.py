"""Feed test helpers: real small videos made by ffmpeg, synthetic MP4 headers, videos in the db."""

from __future__ import annotations

import struct
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reelshop.feed.models import Video, VideoProductTag

FFMPEG = Path("/usr/bin/ffmpeg")


@lru_cache(maxsize=4)
def real_clip(seconds: float = 1.0, fmt: str = "mp4") -> bytes:
    if not FFMPEG.exists():
        pytest.skip("ffmpeg is not installed")
    out = Path(f"/tmp/reelshop-feed-test-{seconds}.{fmt}")
    codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p"] if fmt == "mp4" else ["-c:v", "libvpx"]
    subprocess.run(
        [
            str(FFMPEG),
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x112:rate=5",
            "-t",
            str(seconds),
            *codec,
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


def mp4_header(duration_s: int, timescale: int = 1000) -> bytes:
    """ftyp + moov/mvhd only: enough for the container's duration to be read."""
    ftyp = struct.pack(">I4s4sI", 16, b"ftyp", b"isom", 512)
    body = struct.pack(">B3sIIII", 0, b"\0\0\0", 0, 0, timescale, duration_s * timescale)
    body += b"\0" * 80
    mvhd = struct.pack(">I4s", 8 + len(body), b"mvhd") + body
    moov = struct.pack(">I4s", 8 + len(mvhd), b"moov") + mvhd
    return ftyp + moov


def add_video(
    session: Session,
    *,
    author_user_id: str,
    product_id: str | None = None,
    caption: str = "demo",
) -> Video:
    video = Video(
        author_user_id=author_user_id,
        caption=caption,
        media_key="videos/aa/obj_demo.mp4",
        content_type="video/mp4",
        size_bytes=1000,
        duration_ms=4000,
        poster_key="videos/aa/obj_demo.jpg",
    )
    if product_id:
        video.tags.append(VideoProductTag(product_id=product_id, position=0))
    session.add(video)
    session.flush()
    return video
