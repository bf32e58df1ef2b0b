"""Roles × users for the profile and API-token pages: each person reaches only their own account,
whatever their roles in projects; anonymous visitors are sent to the login page."""

from __future__ import annotations

import pytest

from accounts.models import ApiToken, User
from accounts.services import api_token_create
from tests.conftest import ALL_USERS, World
from tests.projects.test_access_matrix import outcome


@pytest.mark.parametrize("who", ALL_USERS)
def test_profile_matrix(world: World, who: str) -> None:
    client = world.client(who)
    page = client.get("/accounts/profile/")
    assert outcome(page) == ("login" if who == "anonymous" else 200)
    response = client.post(
        "/accounts/profile/", {"first_name": "Changed", "last_name": "", "email": f"{who}@example.org"}
    )
    assert outcome(response) == ("login" if who == "anonymous" else 302)
    # The form saves the person who sent it and nobody else.
    changed = set(User.objects.filter(first_name="Changed").values_list("username", flat=True))
    assert changed == (set() if who == "anonymous" else {who})


@pytest.mark.parametrize("who", ALL_USERS)
def test_token_create_matrix(world: World, who: str) -> None:
    response = world.client(who).post("/accounts/profile/tokens/", {"name": "pipeline"})
    assert outcome(response) == ("login" if who == "anonymous" else 200)
    owners = list(ApiToken.objects.values_list("user__username", flat=True))
    assert owners == ([] if who == "anonymous" else [who])


@pytest.mark.parametrize("who", ALL_USERS)
def test_token_revoke_matrix(world: World, who: str) -> None:
    """Only the owner's own request revokes the owner's token; anyone else's changes nothing and
    reads like a token that does not exist."""
    token, _ = api_token_create(user=world.users["owner"], name="pipeline")
    response = world.client(who).post(f"/accounts/profile/tokens/{token.pk}/revoke/")
    assert outcome(response) == ("login" if who == "anonymous" else 302)
    assert ApiToken.objects.filter(pk=token.pk).exists() == (who != "owner")
