"""One contract, two implementations: the registry's key-value store in memory and on a
real (private) redis-server."""

from __future__ import annotations

import uuid

import pytest
import redis

from scheduler.service.kv import KeyValue, MemoryKV
from scheduler.service.kv_redis import RedisKV


@pytest.fixture(params=["memory", "redis"])
def kv(request: pytest.FixtureRequest) -> KeyValue:
    if request.param == "memory":
        return MemoryKV()
    server = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    return RedisKV(client, prefix=f"test-{uuid.uuid4()}:")


def test_values_round_trip_as_json(kv: KeyValue) -> None:
    value = {"name": "m", "n": 1.5, "tags": ["a", None], "ok": True}
    kv.put("sm/m", value)
    assert kv.get("sm/m") == value
    assert kv.get("sm/none") is None
    value["tags"].append("changed after put")
    assert kv.get("sm/m") == {"name": "m", "n": 1.5, "tags": ["a", None], "ok": True}
    kv.put("sm/m", 7)
    assert kv.get("sm/m") == 7


def test_add_only_fills_a_free_key(kv: KeyValue) -> None:
    assert kv.add("act/a", {"v": 1})
    assert not kv.add("act/a", {"v": 2})
    assert kv.get("act/a") == {"v": 1}


def test_delete_says_whether_there_was_something(kv: KeyValue) -> None:
    kv.put("k", 1)
    assert kv.delete("k") and not kv.delete("k") and kv.get("k") is None


def test_scan_by_prefix_in_key_order(kv: KeyValue) -> None:
    for key in ("ver/m/000000002", "ver/m/000000010", "ver/m/000000001", "ver/mm/000000001",
                "ver/m*/000000001", "alias/m/live"):
        kv.put(key, key)
    assert [k for k, _ in kv.scan("ver/m/")] == [
        "ver/m/000000001", "ver/m/000000002", "ver/m/000000010"]
    assert [v for _, v in kv.scan("ver/m*/")] == ["ver/m*/000000001"]
    assert kv.scan("nothing/") == []


def test_counters_count_from_one(kv: KeyValue) -> None:
    assert [kv.incr("vercount/m"), kv.incr("vercount/m"), kv.incr("vercount/n")] == [1, 2, 1]


def test_scan_by_a_prefix_of_kinds(kv: KeyValue) -> None:
    for key in ("ver/a", "verx/b", "alias/c", "v"):
        kv.put(key, key)
    assert [k for k, _ in kv.scan("ver")] == ["ver/a", "verx/b"]
    assert [k for k, _ in kv.scan("v")] == ["v", "ver/a", "verx/b"]
