"""The local S3 stand-in (moto's server mode) as tests see it: an endpoint and fresh buckets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import boto3


@dataclass
class S3StandIn:
    endpoint_url: str
    region: str = "us-east-1"

    def client(self) -> Any:
        return boto3.session.Session().client("s3", endpoint_url=self.endpoint_url, region_name=self.region)

    def new_bucket(self) -> str:
        """A bucket of its own for one test, so tests never see each other's objects."""
        name = f"test-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listing.get("Contents", []))
