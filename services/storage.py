"""File storage by content hash, behind a small interface; the database keeps the metadata.

Uploads are streamed to a temporary file while hashed and counted, so nothing large sits in memory
and an oversize upload stops at the limit; the type is judged from the bytes (the `filetype`
library's magic numbers), never from the name.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import filetype

from services.errors import FileTooLarge, UnsupportedFileType

ACCEPTED = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Blob:
    sha256: str
    size: int
    content_type: str
    created: bool  # False when the same bytes were already stored


class Storage(Protocol):
    def put(self, stream: BinaryIO, *, max_bytes: int) -> Blob: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def delete(self, sha256: str) -> None: ...


def check_sha256(sha256: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{64}", sha256):
        raise ValueError("not a sha256")
    return sha256


def receive(stream: BinaryIO, max_bytes: int, out: BinaryIO) -> tuple[str, int, str]:
    """Copy an upload into `out` while hashing and counting it; its sha256, size and accepted type.

    FileTooLarge as soon as more than max_bytes were read; UnsupportedFileType when the bytes are not
    an accepted type (or there are none). Whoever owns `out` throws it away on either.
    """
    digest, size, head = hashlib.sha256(), 0, b""
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise FileTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB")
        if len(head) < 8192:
            head += chunk[: 8192 - len(head)]
        digest.update(chunk)
        out.write(chunk)
    kind = filetype.guess(head)
    content_type = kind.mime if kind is not None else None
    if content_type not in ACCEPTED or size == 0:
        raise UnsupportedFileType("only PDF, JPEG and PNG files are accepted")
    return digest.hexdigest(), size, content_type


class LocalStorage:
    """Blobs as files under root/ab/cd/<sha256>, written atomically."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _final(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO, *, max_bytes: int) -> Blob:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size, content_type = receive(stream, max_bytes, out)
            final = self._final(sha256)
            if final.exists():
                tmp.unlink()
                return Blob(sha256, size, content_type, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o640)
            tmp.rename(final)
            return Blob(sha256, size, content_type, created=True)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def open(self, sha256: str) -> BinaryIO:
        return self._final(sha256).open("rb")

    def delete(self, sha256: str) -> None:
        self._final(sha256).unlink(missing_ok=True)


def safe_filename(name: str | None, content_type: str) -> str:
    """A base name safe to store and to send back: no path, no control characters, a sane length."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFC", name or ""))[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    base = re.sub(r"\s+", " ", base)[:200]
    extension = ACCEPTED.get(content_type, "bin")
    if not base:
        return f"tep.{extension}"
    return base
