"""Login rate limiting: five failures for a username or from an address within 15 minutes pause
logins for 15 minutes, on the site's login page and the admin's, with a clear message."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from accounts import rate_limit
from accounts.models import User
from tests.conftest import ALL_USERS, World, make_user
from tests.fairlight.test_env import _manage

START = 1_800_000_000.0


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    controlled = Clock()
    monkeypatch.setattr(rate_limit, "clock", controlled)
    cache.clear()
    yield controlled
    cache.clear()


@pytest.fixture
def alice(db: None) -> User:
    return make_user("alice")


def _log_in(username: str, password: str, address: str = "192.0.2.1", forwarded: str = "") -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=forwarded)
    client.post("/accounts/login/", {"username": username, "password": password})
    return client


def _post_login(client: Client, username: str, password: str) -> tuple[int, str]:
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code, response.content.decode()


def _fail(times: int, username: str = "alice", address: str = "192.0.2.1") -> None:
    for _ in range(times):
        status, _ = _post_login(Client(REMOTE_ADDR=address), username, "wrong password")
        assert status == 200


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_failures_pause_logins_for_fifteen_minutes(alice: User, clock: Clock) -> None:
    _fail(5)
    client = Client(REMOTE_ADDR="192.0.2.1")
    status, page = _post_login(client, "alice", "pw-alice")
    assert status == 429
    assert "Too many failed logins for this account or from your network" in page
    assert "try again in 15 minutes" in page
    assert not _logged_in(client)

    clock.advance(14)
    status, page = _post_login(client, "alice", "pw-alice")
    assert status == 429
    assert "try again in 1 minute," in page
    assert not _logged_in(client)

    clock.advance(1)
    status, _ = _post_login(client, "alice", "pw-alice")
    assert status == 302
    assert _logged_in(client)


def test_refused_attempts_do_not_extend_the_pause(alice: User, clock: Clock) -> None:
    _fail(5)
    for _ in range(10):
        clock.advance(1)
        status, _ = _post_login(Client(REMOTE_ADDR="192.0.2.1"), "alice", "wrong password")
        assert status == 429
    clock.advance(5)  # 15 minutes after the fifth failure
    assert _logged_in(_log_in("alice", "pw-alice"))


def test_four_failures_are_allowed_and_old_failures_expire(alice: User, clock: Clock) -> None:
    _fail(4)
    clock.advance(16)
    _fail(4)  # the first four are older than 15 minutes: no pause
    assert _logged_in(_log_in("alice", "pw-alice"))


def test_a_successful_login_forgets_the_accounts_failures(alice: User, clock: Clock) -> None:
    _fail(4)
    assert _logged_in(_log_in("alice", "pw-alice"))
    _fail(4)
    assert _logged_in(_log_in("alice", "pw-alice"))


def test_a_successful_login_does_not_clear_other_usernames_failures_at_its_address(
    alice: User, clock: Clock
) -> None:
    _fail(4, username="victim")
    assert _logged_in(_log_in("alice", "pw-alice"))  # the guesser's own account
    _fail(1, username="victim2")
    assert _post_login(Client(REMOTE_ADDR="192.0.2.1"), "alice", "pw-alice")[0] == 429


def test_the_username_is_limited_from_any_address_in_any_case(alice: User, clock: Clock) -> None:
    for number in range(5):
        _fail(1, username="Alice " if number % 2 else "alice", address=f"198.51.100.{number}")
    client = Client(REMOTE_ADDR="203.0.113.9")
    assert _post_login(client, "alice", "pw-alice")[0] == 429
    assert not _logged_in(client)


def test_an_address_guessing_many_usernames_is_paused(db: None, clock: Clock) -> None:
    bob = make_user("bob")
    for number in range(5):
        _fail(1, username=f"nobody{number}", address="192.0.2.66")
    refused = Client(REMOTE_ADDR="192.0.2.66")
    assert _post_login(refused, bob.username, "pw-bob")[0] == 429
    # The same person from elsewhere is not affected.
    assert _logged_in(_log_in("bob", "pw-bob", address="192.0.2.77"))


def test_people_behind_one_address_who_log_in_correctly_are_never_paused(db: None, clock: Clock) -> None:
    for number in range(12):
        make_user(f"member{number}")
        assert _logged_in(_log_in(f"member{number}", f"pw-member{number}", address="192.0.2.50"))


def test_an_empty_form_is_not_counted(alice: User, clock: Clock) -> None:
    for _ in range(8):
        status, page = _post_login(Client(REMOTE_ADDR="192.0.2.1"), "alice", "")
        assert status == 200
        assert "This field is required." in page
    assert _logged_in(_log_in("alice", "pw-alice"))


def test_behind_the_proxy_the_last_forwarded_address_counts(
    db: None, clock: Clock, settings: SettingsWrapper
) -> None:
    settings.FAIRLIGHT_BEHIND_PROXY = True
    make_user("carol")
    # Every request reaches us from the proxy (127.0.0.1); the attacker makes up the first entry.
    for number in range(5):
        client = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}, 192.0.2.66")
        assert _post_login(client, f"nobody{number}", "guess")[0] == 200
    attacker = Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="10.9.9.9, 192.0.2.66")
    assert _post_login(attacker, "carol", "pw-carol")[0] == 429
    # Other people behind the same proxy still log in.
    other = _log_in("carol", "pw-carol", address="127.0.0.1", forwarded="192.0.2.77")
    assert _logged_in(other)


def test_without_a_proxy_forwarded_headers_are_ignored(db: None, clock: Clock) -> None:
    make_user("dave")
    for number in range(5):
        client = Client(REMOTE_ADDR="192.0.2.66", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")
        _post_login(client, f"nobody{number}", "guess")
    assert _post_login(Client(REMOTE_ADDR="192.0.2.66"), "dave", "pw-dave")[0] == 429


def test_the_admin_login_is_limited_too(db: None, clock: Clock) -> None:
    User.objects.create_superuser("root", "root@example.org", "pw-root")
    for _ in range(5):
        response = Client(REMOTE_ADDR="192.0.2.1").post(
            "/admin/login/", {"username": "root", "password": "wrong"}
        )
        assert response.status_code == 200
    client = Client(REMOTE_ADDR="192.0.2.1")
    response = client.post("/admin/login/", {"username": "root", "password": "pw-root"})
    assert "Too many failed logins" in response.content.decode()
    assert not _logged_in(client)
    clock.advance(15)
    response = client.post("/admin/login/", {"username": "root", "password": "pw-root"})
    assert response.status_code == 302
    assert _logged_in(client)


def test_a_redis_cache_is_configured_from_the_environment(tmp_path: Path) -> None:
    show = "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])"
    embedded = _manage("shell", "--no-imports", "-c", show, FAIRLIGHT_VAR_DIR=str(tmp_path))
    assert embedded.stdout.strip() == "django.core.cache.backends.locmem.LocMemCache"
    shared = _manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        FAIRLIGHT_CACHE_URL="redis://127.0.0.1:6379/1",
        FAIRLIGHT_VAR_DIR=str(tmp_path),
    )
    assert shared.stdout.strip() == "django.core.cache.backends.redis.RedisCache"


def test_locked_message_counts_minutes_left() -> None:
    assert "try again in 15 minutes" in str(rate_limit.LoginLocked(900))
    assert "try again in 1 minute," in str(rate_limit.LoginLocked(20))
    assert "try again in 2 minutes" in str(rate_limit.LoginLocked(61))


@pytest.mark.parametrize("who", ALL_USERS)
def test_the_login_page_is_open_to_everyone(world: World, who: str) -> None:
    response = world.client(who).get("/accounts/login/")
    assert response.status_code == 200
    assert 'action="/accounts/login/"' in response.content.decode()
