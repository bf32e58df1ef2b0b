from __future__ import annotations

from accounts.models import ApiToken, User


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token and return it with its key, which is shown once and never stored."""
    key = ApiToken.new_key()
    token = ApiToken(user=user, name=name)
    token.set_key(key)
    token.full_clean()
    token.save()
    return token, key


def api_token_revoke(*, user: User, token_id: int) -> bool:
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    return deleted > 0
