"""Safety limits for reading untrusted files, and a bounded byte source."""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from replay.errors import LimitExceededError, UnreadableInputError

MiB = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
#: Nesting accepted by default (real entries nest about 5 deep).
DEFAULT_MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Limits:
    """What replay will read at most; every command takes options to raise them."""

    #: decompressed bytes of one input (a real 176,000-entry dump holds 147 MB of msgpack)
    max_bytes: int = 1024 * MiB
    #: bytes of one pasted-text input (a story pasted from CI is a few MB at most)
    max_text_bytes: int = 64 * MiB
    #: nesting of containers
    max_depth: int = DEFAULT_MAX_DEPTH
    #: elements of one array or map inside an entry (the whole log is streamed, not counted)
    max_container_length: int = 10_000_000


DEFAULT_LIMITS = Limits()


def size_text(size: int) -> str:
    """``64 MiB`` for whole mebibytes, else ``1000 bytes``."""
    return f"{size // MiB} MiB" if size >= MiB and size % MiB == 0 else f"{size} bytes"


class BoundedReader(io.RawIOBase):
    """A readable stream that fails with :class:`LimitExceededError` past ``limit`` bytes.

    Wraps a gzip stream so that a small file expanding to gigabytes is stopped
    after ``limit`` bytes, in bounded time and memory.
    """

    def __init__(self, inner: IO[bytes], limit: int, path: str) -> None:
        self._inner = inner
        self._limit = limit
        self._path = path
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer)
        try:
            data = self._inner.read(len(view))
        except (OSError, EOFError, zlib.error) as error:
            raise UnreadableInputError(
                self._path, f"corrupt or truncated gzip data after {self.consumed} decompressed bytes: {error}"
            ) from None
        size = len(data)
        self.consumed += size
        if self.consumed > self._limit:
            raise LimitExceededError(
                self._path,
                f"more than {size_text(self._limit)} of data (raise it with --max-bytes)",
            )
        view[:size] = data
        return size

    def close(self) -> None:
        self._inner.close()
        super().close()


def open_bytes(path: Path, limits: Limits) -> tuple[io.BufferedReader, bool]:
    """Open ``path`` for reading, gunzipping when it starts with the gzip magic.

    Returns the stream and whether it was compressed.
    """
    raw = path.open("rb")
    compressed = raw.read(2) == GZIP_MAGIC
    raw.seek(0)
    inner: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if compressed else raw  # type: ignore[assignment]
    bounded = BoundedReader(inner, limits.max_bytes, str(path))
    return io.BufferedReader(bounded, buffer_size=64 * 1024), compressed


def read_text_bytes(path: Path, limits: Limits, what: str) -> bytes:
    """The whole (decompressed) content of a text input, refused past ``max_text_bytes``."""
    stream, _ = open_bytes(path, limits)
    with stream:
        data = stream.read(limits.max_text_bytes + 1)
    if len(data) > limits.max_text_bytes:
        raise LimitExceededError(
            str(path), f"{what} larger than {size_text(limits.max_text_bytes)} (raise it with --max-text-bytes)"
        )
    return data


def read_head(path: Path, limits: Limits) -> tuple[bytes, bool]:
    """The first 4 KiB of the (decompressed) content, and whether it was gzip."""
    stream, compressed = open_bytes(path, limits)
    with stream:
        return stream.read(4096), compressed
