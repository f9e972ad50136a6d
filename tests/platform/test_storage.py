"""Both storage back ends behave the same. S3 is exercised against moto's in-process
S3 (a stand-in at the network boundary: no AWS account or network involved)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reelshop.config import Environment, Settings
from reelshop.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    new_key,
    storage_from_settings,
)


@pytest.fixture(params=["local", "s3"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "media")
        return
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="reelshop-media")
        yield S3Storage("reelshop-media", prefix="/demo/", client=client)


def test_put_get_size_range_delete(store: Storage) -> None:
    key = new_key("videos", ".mp4")
    data = bytes(range(256)) * 1000
    assert not store.exists(key)
    store.put(key, data, content_type="video/mp4")
    assert store.exists(key)
    assert store.size(key) == len(data)
    assert store.get(key) == data
    assert b"".join(store.open_range(key, 100, 70_099)) == data[100:70_100]
    store.delete(key)
    assert not store.exists(key)
    with pytest.raises(StorageError):
        store.get(key)
    with pytest.raises(StorageError):
        store.size(key)


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs/path", "a/../../b", "UPPER/case", ""])
def test_keys_cannot_escape(store: Storage, bad: str) -> None:
    with pytest.raises(StorageError):
        store.put(bad, b"x", content_type="text/plain")


def test_storage_is_chosen_by_settings(tmp_path: Path) -> None:
    base = {"env": Environment.TEST, "data_dir": tmp_path, "_env_file": None}
    assert isinstance(storage_from_settings(Settings(**base)), LocalStorage)  # type: ignore[arg-type]
    with pytest.raises(StorageError):
        storage_from_settings(Settings(**base, storage_url="ftp://nope"))  # type: ignore[arg-type]
    pytest.importorskip("boto3")
    chosen = storage_from_settings(
        Settings(**base, storage_url="s3://bucket/some/prefix", s3_region="eu-west-1")  # type: ignore[arg-type]
    )
    assert isinstance(chosen, S3Storage)
    assert (chosen.bucket, chosen.prefix) == ("bucket", "some/prefix/")
