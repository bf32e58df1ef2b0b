"""Settings from the environment: a malformed value stops start-up and names the variable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from fairlight.env import env_bool, env_database, env_int, env_list, env_storage_roots

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool_reads_common_spellings(raw: str, value: bool) -> None:
    assert env_bool("DEBUG", False, environ={"DEBUG": raw}) is value


def test_env_bool_rejects_other_words() -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", False, environ={"DEBUG": "maybe"})


def test_env_int_names_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT='twenty-five' is not a whole number"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "twenty-five"})
    with pytest.raises(ImproperlyConfigured, match="EMAIL_PORT=0 must be at least 1"):
        env_int("EMAIL_PORT", 25, minimum=1, environ={"EMAIL_PORT": "0"})


def test_env_list_rejects_empty_entries() -> None:
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.org, b.org"}) == ["a.org", "b.org"]
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.org,,b.org"})


def test_env_database_accepts_sqlite_and_postgres(tmp_path: Path) -> None:
    sqlite = env_database("DATABASE_URL", f"sqlite:///{tmp_path}/db.sqlite3", environ={})
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"
    assert sqlite["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    postgres = env_database(
        "DATABASE_URL", "", environ={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"}
    )
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert postgres["NAME"] == "test"


@pytest.mark.parametrize("url", ["mysql://root@localhost/db", "not a url", "postgres://host:notaport/db"])
def test_env_database_rejects_unsupported(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"^DATABASE_URL="):
        env_database("DATABASE_URL", "", environ={"DATABASE_URL": url})


def test_storage_roots_parse_and_resolve_symlinks(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    roots = env_storage_roots(
        "FAIRLIGHT_STORAGE_ROOTS",
        "",
        environ={"FAIRLIGHT_STORAGE_ROOTS": f"micro={tmp_path / 'link'}, transfer={tmp_path}"},
    )
    assert [(r.name, r.path) for r in roots] == [("micro", real), ("transfer", tmp_path)]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("micro", "must look like NAME=/absolute/path"),
        ("micro=relative/path", "must be absolute"),
        ("micro=/no/such/folder/anywhere", "does not exist or is not a directory"),
        ("Micro Scope=/tmp", "root name 'Micro Scope' must be"),
        ("a=/tmp,a=/tmp", "given twice"),
    ],
)
def test_storage_roots_errors_name_the_variable(value: str, message: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=f"^FAIRLIGHT_STORAGE_ROOTS: .*{message}"):
        env_storage_roots("FAIRLIGHT_STORAGE_ROOTS", "", environ={"FAIRLIGHT_STORAGE_ROOTS": value})


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "FAIRLIGHT_"))}
    environ.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUG", "maybe"),
        ("FAIRLIGHT_STORAGE_ROOTS", "micro=/no/such/folder"),
        ("FAIRLIGHT_STORAGE_ROOTS", "micro=../escape"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("FAIRLIGHT_TASK_BACKEND", "carrier-pigeon"),
        ("FAIRLIGHT_EMAIL_BACKEND", "fax"),
        ("FAIRLIGHT_CACHE_URL", "memcached://127.0.0.1:11211"),
    ],
)
def test_malformed_variable_stops_startup(variable: str, value: str, tmp_path: Path) -> None:
    result = _manage("check", **{variable: value, "FAIRLIGHT_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {variable}" in result.stderr


def test_production_settings_refuse_the_default_secret(tmp_path: Path) -> None:
    result = _manage(
        "check", DJANGO_SETTINGS_MODULE="fairlight.settings.production", FAIRLIGHT_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random value" in result.stderr


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="fairlight.settings.production",
        SECRET_KEY="x7Kq2vL9pR4tY8wZ3nB6mC1dF5gH0jS2aE7uI9oP4lK3zX8cV6bN1mQ5rT2yW0eU",
        ALLOWED_HOSTS="fairlight.example.org",
        FAIRLIGHT_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_are_strict(tmp_path: Path) -> None:
    show = (
        "import json; from django.conf import settings as s; print(json.dumps({"
        "'hsts': s.SECURE_HSTS_SECONDS, 'subdomains': s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "'session': s.SESSION_COOKIE_SECURE, 'csrf': s.CSRF_COOKIE_SECURE, "
        "'httponly': s.SESSION_COOKIE_HTTPONLY, "
        "'redirect': s.SECURE_SSL_REDIRECT, 'proxy': s.FAIRLIGHT_BEHIND_PROXY, "
        "'csp': {k: [str(v) for v in vs] for k, vs in s.SECURE_CSP.items()}}))"
    )
    result = _manage(
        "shell",
        "--no-imports",
        "-c",
        show,
        DJANGO_SETTINGS_MODULE="fairlight.settings.production",
        SECRET_KEY="x7Kq2vL9pR4tY8wZ3nB6mC1dF5gH0jS2aE7uI9oP4lK3zX8cV6bN1mQ5rT2yW0eU",
        FAIRLIGHT_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["hsts"] >= 31_536_000
    for secure in ("subdomains", "redirect", "proxy", "session", "csrf", "httponly"):
        assert values[secure] is True, secure
    policy = values["csp"]
    assert not any("unsafe-inline" in v or "unsafe-eval" in v for vs in policy.values() for v in vs)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
