"""Tiny, valid PDF and PNG files made in code: for the demo seed and the tests."""

from __future__ import annotations

import struct
import zlib


def sample_pdf(title: str, lines: list[str] | None = None) -> bytes:
    """A one-page PDF that shows ``title`` and ``lines`` (ASCII) in Helvetica."""

    def escape(text: str) -> str:
        ascii_text = text.encode("ascii", "replace").decode()
        return ascii_text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    rows = [f"BT /F1 18 Tf 56 780 Td ({escape(title)}) Tj ET"]
    for i, line in enumerate(lines or []):
        rows.append(f"BT /F1 11 Tf 56 {750 - 16 * i} Td ({escape(line)}) Tj ET")
    stream = "\n".join(rows).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def sample_png(
    width: int = 48, height: int = 32, rgb: tuple[int, int, int] = (40, 90, 160)
) -> bytes:
    """A solid-colour RGB PNG with a lighter band, like a scanned card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    band = tuple(min(255, c + 90) for c in rgb)
    raw = bytearray()
    for y in range(height):
        raw.append(0)  # filter: none
        colour = band if height // 3 <= y < height // 2 else rgb
        raw += bytes(colour) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )
