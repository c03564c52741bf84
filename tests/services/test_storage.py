"""The storage contract, run against the local disk and against S3 (moto's server as the stand-in)."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from services.errors import FileTooLarge, UnsupportedFileType
from services.storage import LocalStorage, Storage
from services.storage_s3 import S3Storage
from tests.dossier_helpers import ELF, JPEG, PDF, PNG
from tests.storage_helpers import S3StandIn

MB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path) -> tuple[Storage, Callable[[], list[str]]]:
    """A fresh, empty storage and a way to list what it holds (file names or object keys)."""
    if request.param == "local":
        local = LocalStorage(tmp_path / "storage")
        return local, lambda: sorted(p.name for p in local.root.rglob("*") if p.is_file())
    s3: S3StandIn = request.getfixturevalue("s3")
    bucket = s3.new_bucket()
    remote = S3Storage(bucket, prefix="attachments", endpoint_url=s3.endpoint_url, region=s3.region)
    return remote, lambda: [key.rsplit("/", 1)[-1] for key in s3.keys(bucket)]


@pytest.mark.parametrize(("data", "content_type"), [(PDF, "application/pdf"), (PNG, "image/png"),
                                                    (JPEG, "image/jpeg")])
def test_put_then_open_gives_the_bytes_back(backend, data, content_type):
    storage, stored = backend
    blob = storage.put(io.BytesIO(data), max_bytes=MB)
    assert blob.created and blob.size == len(data) and blob.content_type == content_type
    assert stored() == [blob.sha256]
    with storage.open(blob.sha256) as body:
        assert body.read() == data


def test_the_same_bytes_are_stored_once(backend):
    storage, stored = backend
    first = storage.put(io.BytesIO(PDF), max_bytes=MB)
    again = storage.put(io.BytesIO(PDF), max_bytes=MB)
    assert first.created and not again.created and first.sha256 == again.sha256
    assert stored() == [first.sha256]


def test_delete_removes_and_is_quiet_when_absent(backend):
    storage, stored = backend
    blob = storage.put(io.BytesIO(PNG), max_bytes=MB)
    storage.delete(blob.sha256)
    assert stored() == []
    storage.delete(blob.sha256)
    with pytest.raises(FileNotFoundError):
        storage.open(blob.sha256)


def test_a_large_file_streams_through(backend):
    storage, _ = backend
    data = PDF + bytes(range(256)) * (3 * 4096)  # 3 MB: more than one chunk, past any in-memory spool
    blob = storage.put(io.BytesIO(data), max_bytes=4 * MB)
    with storage.open(blob.sha256) as body:
        assert body.read() == data


class Counting(io.BytesIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_an_oversize_file_is_refused_at_the_limit_and_leaves_nothing(backend):
    storage, stored = backend
    stream = Counting(PDF + b"0" * (5 * MB))
    with pytest.raises(FileTooLarge):
        storage.put(stream, max_bytes=MB)
    assert stream.consumed <= MB + 64 * 1024  # stopped within a chunk of the limit, not read to the end
    assert stored() == []


@pytest.mark.parametrize("data", [ELF, b"just some text", b""])
def test_other_types_are_refused_and_leave_nothing(backend, data):
    storage, stored = backend
    with pytest.raises(UnsupportedFileType):
        storage.put(io.BytesIO(data), max_bytes=MB)
    assert stored() == []


def test_a_name_that_is_not_a_hash_is_refused(backend):
    storage, _ = backend
    with pytest.raises(ValueError, match="sha256"):
        storage.open("../../etc/passwd")
