from __future__ import annotations

import hashlib
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from tests.conftest import make_user


@pytest.fixture
def user(db: None) -> User:
    return make_user("ada", first_name="Ada", last_name="Lovelace")


@pytest.fixture
def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_profile_saves_normalised_identifiers(user: User, client_for: Client) -> None:
    response = client_for.post(
        "/accounts/profile/",
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.org",
            "orcid": "https://orcid.org/0000-0002-1694-233x",
            "affiliation": "EMBL",
            "ror_id": "https://ror.org/03mstc592",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.orcid, user.ror_id, user.affiliation) == ("0000-0002-1694-233X", "03mstc592", "EMBL")


def test_profile_rejects_bad_orcid_and_keeps_the_old_value(user: User, client_for: Client) -> None:
    User.objects.filter(pk=user.pk).update(orcid="0000-0002-1825-0097")
    response = client_for.post(
        "/accounts/profile/",
        {"first_name": "Ada", "last_name": "", "email": "ada@example.org", "orcid": "0000-0002-1825-0098"},
    )
    assert response.status_code == 200
    assert "wrong check digit" in response.content.decode()
    user.refresh_from_db()
    assert user.orcid == "0000-0002-1825-0097"


def test_token_is_shown_once_stored_hashed_and_works(user: User, client_for: Client) -> None:
    response = client_for.post("/accounts/profile/tokens/", {"name": "pipeline"})
    key = re.search(r'<p class="token" aria-label="API token">([^<]+)</p>', response.content.decode())
    assert key is not None
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hashlib.sha256(key.group(1).encode()).hexdigest()
    assert key.group(1) not in str(ApiToken.objects.values_list().get())  # never stored in clear

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key.group(1)}")
    assert api.get("/api/v1/projects/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None

    client_for.post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    assert api.get("/api/v1/projects/").status_code == 401


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token wrong-key", "Token \xff"])
def test_bad_token_headers_are_refused(db: None, header: str) -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=header)
    assert api.get("/api/v1/projects/").status_code == 401


def test_signup_creates_account_and_logs_in(db: None) -> None:
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {
            "username": "grace",
            "first_name": "Grace",
            "last_name": "Hopper",
            "email": "grace@example.org",
            "password1": "a-long-Unusual-passphrase-42",
            "password2": "a-long-Unusual-passphrase-42",
            "next": "https://evil.example.com/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/"  # an off-site "next" is ignored
    assert client.get("/").status_code == 200


def test_signup_refuses_duplicate_email(user: User) -> None:
    response = Client().post(
        "/accounts/signup/",
        {
            "username": "other",
            "email": "ADA@example.org",
            "password1": "a-long-Unusual-passphrase-42",
            "password2": "a-long-Unusual-passphrase-42",
        },
    )
    assert "An account with this email address exists" in response.content.decode()
    assert not User.objects.filter(username="other").exists()


def test_closed_signup_is_refused(db: None, settings: object) -> None:
    settings.FAIRLIGHT_ALLOW_SIGNUP = False  # type: ignore[attr-defined]
    response = Client().get("/accounts/signup/")
    assert response.status_code == 403
    assert "Sign-up is closed" in response.content.decode()


def test_password_reset_sends_a_working_link(user: User, mailoutbox: list[object]) -> None:
    client = Client()
    client.post("/accounts/password_reset/", {"email": "ada@example.org"})
    assert len(mailoutbox) == 1
    body = mailoutbox[0].body  # type: ignore[attr-defined]
    link = re.search(r"http://testserver(/accounts/reset/\S+)", body)
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form_page.content.decode()
