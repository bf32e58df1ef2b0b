"""Redis for the tests: the server named by FAIRLIGHT_REDIS_URL (127.0.0.1:6379 by default)
and queues under a prefix of each test's own, purged afterwards."""

from __future__ import annotations

import os
import uuid

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from workers.rq_backend import RQBackend

REDIS_URL = os.environ.get("FAIRLIGHT_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_or_skip() -> Redis:
    client = Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except RedisConnectionError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"No Redis at {REDIS_URL} ({exc}); start one with `redis-server` to run this test.")
    return client


def unique_prefix() -> str:
    """A queue prefix no parallel test run shares."""
    return f"fairlight-test-{uuid.uuid4().hex[:12]}"


def backend_for(prefix: str) -> RQBackend:
    return RQBackend("default", {"OPTIONS": {"URL": REDIS_URL, "QUEUE_PREFIX": prefix}})
