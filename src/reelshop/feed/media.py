"""Reading uploaded video bytes: container type from the bytes, duration, poster frame.

The type is decided by the bytes (an ISO-BMFF ``ftyp`` box for MP4, the EBML magic for
WebM), never by the file name. Duration comes from ``ffprobe`` (Debian's ffmpeg) when it
is installed; otherwise from the MP4 ``mvhd`` box; an upload whose duration cannot be
read is refused rather than guessed.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

MP4 = "video/mp4"
WEBM = "video/webm"
_MP4_BRANDS = {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V "}
_MP4_BRANDS |= {b"dash", b"msnv", b"3gp4", b"3gp5", b"MSNV", b"XAVC", b"mmp4"}


class MediaError(ValueError):
    """The bytes are not a video we accept, or its duration cannot be read."""


@dataclass(frozen=True)
class VideoInfo:
    content_type: str
    duration_ms: int
    suffix: str


def sniff(data: bytes) -> str:
    if len(data) >= 12 and data[4:8] == b"ftyp":
        if data[8:12] in _MP4_BRANDS or data[8:10] in (b"is", b"mp", b"av"):
            return MP4
        raise MediaError("this ISO media file is not an MP4 video (brand not supported)")
    if data[:4] == b"\x1a\x45\xdf\xa3":
        head = data[:64]
        if b"webm" in head:
            return WEBM
        raise MediaError("this Matroska file is not WebM; upload MP4 or WebM")
    raise MediaError("not an MP4 or WebM video (the content was checked, not the name)")


def _ffprobe() -> str | None:
    path = Path("/usr/bin/ffprobe")
    return str(path) if path.exists() else shutil.which("ffprobe")


def _ffmpeg() -> str | None:
    path = Path("/usr/bin/ffmpeg")
    return str(path) if path.exists() else shutil.which("ffmpeg")


def _duration_ffprobe(probe: str, data: bytes, suffix: str) -> int | None:
    with tempfile.NamedTemporaryFile(suffix=suffix) as fh:
        fh.write(data)
        fh.flush()
        result = subprocess.run(  # noqa: S603 - fixed argv, our own temp file  # nosec B603
            [probe, "-v", "error", "-show_entries", "format=duration", "-of", "json", fh.name],
            capture_output=True,
            timeout=20,
            check=False,
        )
    if result.returncode != 0:
        return None
    try:
        seconds = float(json.loads(result.stdout)["format"]["duration"])
    except (KeyError, ValueError, TypeError):
        return None
    return round(seconds * 1000)


def mp4_duration_ms(data: bytes) -> int | None:
    """Duration from the ``moov/mvhd`` box (timescale and duration), or None."""
    buf = memoryview(data)

    def boxes(start: int, end: int) -> list[tuple[bytes, int, int]]:
        out = []
        pos = start
        while pos + 8 <= end:
            size, kind = struct.unpack(">I4s", buf[pos : pos + 8])
            header = 8
            if size == 1 and pos + 16 <= end:
                size = struct.unpack(">Q", buf[pos + 8 : pos + 16])[0]
                header = 16
            elif size == 0:
                size = end - pos
            if size < header or pos + size > end:
                break
            out.append((kind, pos + header, pos + size))
            pos += size
        return out

    for kind, start, end in boxes(0, len(data)):
        if kind != b"moov":
            continue
        for inner, istart, iend in boxes(start, end):
            if inner != b"mvhd" or iend - istart < 20:
                continue
            version = buf[istart]
            if version == 1 and iend - istart >= 32:
                timescale, duration = struct.unpack(">IQ", buf[istart + 20 : istart + 32])
            else:
                timescale, duration = struct.unpack(">II", buf[istart + 12 : istart + 20])
            if timescale == 0:
                return None
            return (int(duration) * 1000 + int(timescale) // 2) // int(timescale)
    return None


def inspect(data: bytes) -> VideoInfo:
    content_type = sniff(data)
    suffix = ".mp4" if content_type == MP4 else ".webm"
    duration: int | None = None
    probe = _ffprobe()
    if probe:
        duration = _duration_ffprobe(probe, data, suffix)
    if duration is None and content_type == MP4:
        duration = mp4_duration_ms(data)
    if duration is None or duration <= 0:
        raise MediaError("the video's duration could not be read; the file may be damaged")
    return VideoInfo(content_type, duration, suffix)


def poster_frame(data: bytes, suffix: str, *, caption: str = "") -> bytes:
    """A JPEG poster: the first second's frame by ffmpeg, else a generated card."""
    ffmpeg = _ffmpeg()
    if ffmpeg:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / f"in{suffix}"
            dst = Path(tmp) / "poster.jpg"
            src.write_bytes(data)
            result = subprocess.run(  # noqa: S603 - fixed argv, our own temp files  # nosec B603
                [
                    ffmpeg,
                    "-v",
                    "error",
                    "-y",
                    "-ss",
                    "0.5",
                    "-i",
                    str(src),
                    "-frames:v",
                    "1",
                    "-vf",
                    "scale=360:-2",
                    str(dst),
                ],
                capture_output=True,
                timeout=30,
                check=False,
            )
            if result.returncode == 0 and dst.exists() and dst.stat().st_size > 0:
                return dst.read_bytes()
    return generated_poster(caption)


def generated_poster(caption: str, *, hue: int = 210) -> bytes:
    image = Image.new("RGB", (360, 640), _hsv(hue))
    draw = ImageDraw.Draw(image)
    for i in range(0, 640, 40):
        draw.rectangle((0, i, 360, i + 20), fill=_hsv((hue + i // 8) % 360))
    draw.rectangle((20, 520, 340, 600), fill=(0, 0, 0))
    draw.text((32, 548), caption[:40], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _hsv(hue: int) -> tuple[int, int, int]:
    import colorsys

    r, g, b = colorsys.hsv_to_rgb(hue / 360, 0.55, 0.75)
    return int(r * 255), int(g * 255), int(b * 255)
