from __future__ import annotations

import hashlib
import secrets
from typing import Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.identifiers import validate_orcid, validate_ror


class User(AbstractUser):
    """A person using FAIRlight; the researcher identity goes into DMPs and submissions."""

    email = models.EmailField(
        _("email address"),
        help_text=_("Used for invitations, password resets and embargo reminders."),
    )
    orcid = models.CharField(
        _("ORCID iD"),
        max_length=19,
        blank=True,
        validators=[validate_orcid],
        help_text=_("Your ORCID iD, e.g. 0000-0002-1825-0097; it identifies you as an author."),
    )
    affiliation = models.CharField(
        _("affiliation"),
        max_length=300,
        blank=True,
        help_text=_("Institute or university, as it should appear on publications."),
    )
    ror_id = models.CharField(
        _("ROR id"),
        max_length=9,
        blank=True,
        validators=[validate_ror],
        help_text=_("Research Organization Registry id of your affiliation, e.g. 03mstc592."),
    )

    def display_name(self) -> str:
        return self.get_full_name() or self.username


def hash_token(key: str) -> str:
    """How every secret key FAIRlight hands out (API tokens, calendar feeds, share links) is
    stored: a SHA-256 digest, so a leaked database holds no usable key."""
    return hashlib.sha256(key.encode()).hexdigest()


class SecretKeyQuerySet[M: models.Model](models.QuerySet[M]):
    def matching(self, key: str) -> Self:
        """The rows whose stored digest is that of ``key`` (at most one: key_hash is unique)."""
        return self.filter(key_hash=hash_token(key))


class SecretKey:
    """What a model that hands out a secret key (with ``prefix`` and ``key_hash`` fields) does
    with it: it makes the key, and keeps only its first characters and its digest."""

    prefix: str
    key_hash: str

    @staticmethod
    def new_key() -> str:
        # 32 random bytes: guessing a key is hopeless, so no rate limit is needed to protect them.
        return secrets.token_urlsafe(32)

    def set_key(self, key: str) -> None:
        self.prefix = key[:8]
        self.key_hash = hash_token(key)


class ApiTokenQuerySet(SecretKeyQuerySet["ApiToken"]):
    pass


class ApiToken(SecretKey, models.Model):
    """A personal API token; only its SHA-256 is stored, so a database leak reveals no token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. 'lab pipeline'.")
    )
    prefix = models.CharField(
        _("prefix"), max_length=8, help_text=_("First characters, to recognise the token.")
    )
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
