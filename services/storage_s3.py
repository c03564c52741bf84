"""File storage in an S3-compatible bucket (AWS S3, MinIO, …), for more than one machine.

The same contract as LocalStorage: the upload is streamed to a temporary file while hashed, counted
and judged (services.storage.receive), then sent as one object under `<prefix>/<sha256>`; bytes
already stored are not sent again. Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID and
AWS_SECRET_ACCESS_KEY, a profile, an instance role); the bucket must exist.
"""

from __future__ import annotations

import tempfile
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from services.storage import Blob, check_sha256, receive

# Uploads above this size are kept on disk rather than in memory while they are judged.
SPOOL_BYTES = 1024 * 1024
MISSING = {"404", "NoSuchKey", "NotFound"}


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in MISSING


class S3Storage:
    """Blobs as objects `<prefix>/<sha256>` in one bucket."""

    def __init__(self, bucket: str, *, prefix: str = "", endpoint_url: str | None = None,
                 region: str | None = None, client: Any = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if client is None:
            config = Config(
                retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                # MinIO and most S3-compatible servers are addressed by path, not by a bucket host name.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # Checksums only where S3 requires them: many S3-compatible servers refuse the newer
                # default (CRC trailers on every upload).
                request_checksum_calculation="when_required", response_checksum_validation="when_required",
            )
            client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None,
                                                    region_name=region or None, config=config)
        self.client = client

    def key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}/{sha256}" if self.prefix else sha256

    def exists(self, sha256: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                return False
            raise
        return True

    def put(self, stream: BinaryIO, *, max_bytes: int) -> Blob:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            sha256, size, content_type = receive(stream, max_bytes, cast(BinaryIO, spool))
            if self.exists(sha256):
                return Blob(sha256, size, content_type, created=False)
            spool.seek(0)
            self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=spool,
                                   ContentLength=size, ContentType=content_type)
            return Blob(sha256, size, content_type, created=True)

    def open(self, sha256: str) -> BinaryIO:
        """The object's body, streamed from the bucket as it is read; close it when done."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key(sha256))
        except ClientError as error:
            if _missing(error):
                raise FileNotFoundError(sha256) from error
            raise
        body = response["Body"]
        body.content_length = response.get("ContentLength")  # read by api.http.send_stored
        return cast(BinaryIO, body)

    def delete(self, sha256: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))  # no error when absent
