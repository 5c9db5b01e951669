"""Deployed state per stage, kept in S3 so that any clone (a teammate's, CI's) deploys the
same resources, and the previous versions' packages, for rollback.

One bucket per account, `<app>-pym-deployments-<account>` (or --state-bucket), versioned and
private; per region and stage, under `<region>/<stage>/`:

- `deployed.json`: Chalice's `.chalice/deployed/<stage>.json`. Downloaded before Chalice runs,
  uploaded after it (also after a failure), so the local file is only a cache and need not be
  committed. When the bucket has none, a local file is used and uploaded (adopting a stage
  deployed with plain `chalice deploy`).
- `packages/<sha256>.zip`: each deployed Lambda package, stored once.
- `history.json`: the versions deployed, which one is current, which were rolled back.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .errors import DeployError, one_line


def default_bucket(app_name: str, account_id: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", app_name.lower()).strip("-") or "app"
    suffix = f"-pym-deployments-{account_id}"
    return name[:63 - len(suffix)].rstrip("-") + suffix


def deployed_file(project_dir: Path, stage: str) -> Path:
    return project_dir / ".chalice" / "deployed" / f"{stage}.json"


def sha_hex(sha: str) -> str:
    """A CodeSha256 (base64) as hex, as in the package keys."""
    return base64.b64decode(sha).hex()


def code_sha256(data: bytes) -> str:
    """Lambda's CodeSha256: base64 of the package's SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def find_package(project_dir: Path, sha: str) -> Optional[Path]:
    """The zip Chalice built and uploaded, among its cached packages, by its CodeSha256."""
    folder = project_dir / ".chalice" / "deployments"
    for path in sorted(folder.glob("*.zip"), key=lambda p: p.stat().st_mtime, reverse=True):
        if code_sha256(path.read_bytes()) == sha:
            return path
    return None


@dataclass
class VersionRecord:
    version: int
    code_sha256: str
    package_key: str
    deployed_at: str
    functions: List[str] = field(default_factory=list)  # or the Beanstalk environment
    queues: List[str] = field(default_factory=list)  # task queues and DLQs it used
    rolled_back: bool = False


@dataclass
class History:
    current: int = 0  # 0: nothing deployed yet
    versions: List[VersionRecord] = field(default_factory=list)

    def get(self, version: int) -> Optional[VersionRecord]:
        return next((v for v in self.versions if v.version == version), None)

    @property
    def current_record(self) -> Optional[VersionRecord]:
        return self.get(self.current)

    def record(self, sha: str, package_key: str, functions: Sequence[str],
               queues: Sequence[str] = ()) -> bool:
        """Record a deploy of the package `sha`; False when it is already the current one."""
        current = self.current_record
        if current is not None and current.code_sha256 == sha:
            return False
        number = max((v.version for v in self.versions), default=0) + 1
        self.versions.append(VersionRecord(number, sha, package_key, _now(), list(functions),
                                           list(queues)))
        self.current = number
        return True

    def rollback_target(self, to: Optional[int] = None) -> VersionRecord:
        current = self.current_record
        if current is None:
            raise DeployError("rollback", "no version recorded for this stage: deploy first")
        if to is not None:
            target = self.get(to)
            if target is None:
                raise DeployError("rollback", f"no version {to}; recorded: "
                                  + ", ".join(str(v.version) for v in self.versions))
            return target
        earlier = [v for v in self.versions if v.version < current.version
                   and not v.rolled_back and v.code_sha256 != current.code_sha256]
        if not earlier:
            raise DeployError("rollback", f"version {current.version} is the first one "
                                          "recorded: there is nothing to roll back to")
        return earlier[-1]

    def rolled_back_to(self, target: VersionRecord) -> None:
        current = self.current_record
        if current is not None:
            current.rolled_back = True
        self.current = target.version

    @classmethod
    def from_json(cls, data: Dict[str, Any]) -> History:
        return cls(current=int(data.get("current", 0)),
                   versions=[VersionRecord(**v) for v in data.get("versions", [])])

    def to_json(self) -> Dict[str, Any]:
        return {"current": self.current, "versions": [asdict(v) for v in self.versions]}


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class DeploymentStore:
    """The stage's objects in the deployments bucket."""

    def __init__(self, s3: Any, bucket: str, region: str, stage: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.region = region
        self.prefix = f"{region}/{stage}/"

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def ensure_bucket(self) -> bool:
        """Create the bucket (private, versioned) if missing; True if created."""
        try:
            self.s3.head_bucket(Bucket=self.bucket)
            return False
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code not in ("404", "NoSuchBucket", "NotFound"):
                raise DeployError("state", f"cannot use bucket {self.bucket} ({one_line(exc)}): "
                                           "pass --state-bucket with one you own") from None
        options: Dict[str, Any] = {}
        if self.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.s3.create_bucket(Bucket=self.bucket, **options)
        self.s3.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        # Versioned: an overwritten deployed.json or history.json can still be recovered.
        self.s3.put_bucket_versioning(Bucket=self.bucket,
                                      VersioningConfiguration={"Status": "Enabled"})
        return True

    def get(self, key: str) -> Optional[bytes]:
        try:
            return bytes(self.s3.get_object(Bucket=self.bucket, Key=self.prefix + key)
                         ["Body"].read())
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def put(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.prefix + key, Body=body)

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=self.prefix + key)
            return True
        except Exception:
            return False

    # --- Chalice's deployed state ---------------------------------------------------------

    def download_state(self, local: Path) -> str:
        data = self.get("deployed.json")
        if data is None:
            return "local file kept (none in S3 yet)" if local.is_file() else "none yet"
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(data)
        return "downloaded"

    def upload_state(self, local: Path) -> bool:
        if not local.is_file():
            return False
        self.put("deployed.json", local.read_bytes())
        return True

    # --- packages and history -------------------------------------------------------------

    def store_package(self, path: Path, sha: str) -> str:
        key = "packages/" + sha_hex(sha) + ".zip"
        if not self.exists(key):
            self.put(key, path.read_bytes())
        return key

    def fetch_package(self, key: str) -> bytes:
        data = self.get(key)
        if data is None:
            raise DeployError("rollback", f"package {self.url(key)} is missing")
        return data

    def history(self, name: str = "history.json") -> History:
        data = self.get(name)
        return History.from_json(json.loads(data)) if data else History()

    def save_history(self, history: History, name: str = "history.json") -> None:
        self.put(name, json.dumps(history.to_json(), indent=1).encode())

    def delete_stage(self, keep: Sequence[str] = ()) -> int:
        """Remove the stage's objects (all versions) but `keep`; returns how many keys."""
        keys = set()
        pages = self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                if item["Key"][len(self.prefix):] in keep:
                    continue
                self.s3.delete_object(Bucket=self.bucket, Key=item["Key"],
                                      VersionId=item["VersionId"])
                keys.add(item["Key"])
        return len(keys)
