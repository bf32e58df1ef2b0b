"""Shared fixtures: one project with a named user for each role, plus outsiders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.test import APIClient

from accounts.models import User
from fairlight.env import StorageRootSetting
from projects.models import Facility, Membership, Project, Role, Team
from vocabularies import services as vocabulary_services
from vocabularies.models import OntologyTerm

ROLE_USERS = ("owner", "manager", "editor", "reviewer", "viewer")
# Everyone the access matrix covers: the five roles, a facility steward, a logged-in
# stranger and nobody at all.
ALL_USERS = (*ROLE_USERS, "steward", "outsider", "anonymous")


@pytest.fixture(autouse=True)
def _fast_passwords(settings: SettingsWrapper) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    facility: Facility
    team: Team
    project: Project
    other_project: Project
    users: dict[str, User]

    def client(self, who: str) -> Client:
        client = Client()
        if who != "anonymous":
            client.force_login(self.users[who])
        return client

    def api(self, who: str) -> APIClient:
        client = APIClient()
        if who != "anonymous":
            client.force_authenticate(self.users[who])
        return client


def make_user(username: str, **extra: str) -> User:
    return User.objects.create_user(
        username=username, password="pw-" + username, email=f"{username}@example.org", **extra
    )


@pytest.fixture
def world(db: None) -> World:
    facility = Facility.objects.create(name="Imaging Core")
    team = Team.objects.create(name="Lab A", facility=facility)
    users = {name: make_user(name) for name in (*ROLE_USERS, "steward", "outsider")}
    facility.stewards.add(users["steward"])
    team.members.add(users["owner"], users["editor"])
    project = Project.objects.create(
        title="Zebrafish mitochondria", acronym="ZM", team=team, facility=facility
    )
    for role in ROLE_USERS:
        Membership.objects.create(project=project, user=users[role], role=Role(role))
    # A project the outsider owns, in no facility: nobody else may see it.
    other_project = Project.objects.create(title="Secret project of the outsider")
    Membership.objects.create(project=other_project, user=users["outsider"], role=Role.OWNER)
    return World(facility=facility, team=team, project=project, other_project=other_project, users=users)


@pytest.fixture
def run_tasks(db: None) -> Callable[[], None]:
    """Run every queued task on the database backend, as a worker process would.

    It claims and runs tasks with the worker's own code but without the worker loop,
    whose connection recycling would close the test's transaction on PostgreSQL.
    """
    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )

    def run() -> None:
        while (result := DBTaskResult.objects.ready().order_by("enqueued_at").first()) is not None:
            result.claim(worker.worker_id)
            worker.run_task(result)

    return run


@pytest.fixture
def storage_root_dir(tmp_path: Path, settings: SettingsWrapper) -> Path:
    """A temporary folder allow-listed in FAIRLIGHT_STORAGE_ROOTS."""
    root = (tmp_path / "storage").resolve()
    root.mkdir()
    settings.FAIRLIGHT_STORAGE_ROOTS = (StorageRootSetting(name="test", path=root),)
    return root


@pytest.fixture(scope="session")
def _ontologies_loaded_once(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> None:
    with django_db_blocker.unblock():
        vocabulary_services.ontologies_load()


@pytest.fixture
def ontologies(_ontologies_loaded_once: None, db: None) -> None:
    """Every shipped vocabulary in the database, as `manage.py load_ontologies` leaves it."""
    # A transactional test elsewhere in the session flushes every table after itself.
    if not OntologyTerm.objects.exists():
        vocabulary_services.ontologies_load()
