"""Messages between the trusted parent and the sandboxed child: a JSON header and raw byte buffers.

Frame: 8-byte little-endian header length, the header (JSON, with ``buffers``: the byte length of
each buffer that follows), then the buffers. Tensors cross as their raw bytes; the receiver
rebuilds them from a shape and dtype it already knows, so nothing is unpickled on either side.
"""

from __future__ import annotations

import json
import struct
from typing import Any, BinaryIO

MAX_HEADER_BYTES = 1 << 20


class ChannelClosed(Exception):
    """The other side went away (or sent something that is not a frame)."""


def send(stream: BinaryIO, header: dict[str, Any], buffers: list[bytes] = ()) -> None:
    head = json.dumps({**header, "buffers": [len(b) for b in buffers]}).encode()
    stream.write(struct.pack("<Q", len(head)) + head)
    for buffer in buffers:
        stream.write(buffer)
    stream.flush()


def _read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise ChannelClosed(f"closed after {len(data)} of {size} bytes")
        data += chunk
    return bytes(data)


def receive(stream: BinaryIO, *, max_buffer_bytes: int) -> tuple[dict[str, Any], list[bytes]]:
    (size,) = struct.unpack("<Q", _read_exactly(stream, 8))
    if size > MAX_HEADER_BYTES:
        raise ChannelClosed(f"header of {size} bytes is not a frame")
    try:
        header = json.loads(_read_exactly(stream, size))
        lengths = [int(n) for n in header.pop("buffers")]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ChannelClosed(f"malformed header: {exc}") from exc
    if any(n < 0 for n in lengths) or sum(lengths) > max_buffer_bytes:
        raise ChannelClosed("buffers larger than asked for")
    return header, [_read_exactly(stream, n) for n in lengths]
