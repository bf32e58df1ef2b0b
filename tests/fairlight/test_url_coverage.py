"""Every URL pattern of the site has an access matrix (issue 9, must-show 3).

The roles × users matrices live beside each app's tests. ``MATRICES`` names, for each matrix test,
the endpoints it checks for all eight kinds of user in ``ALL_USERS`` (five roles, a facility
steward, a stranger, nobody). A page counts as one endpoint per URL name: its matrix covers the
methods it answers. An API endpoint counts once per URL name and HTTP method, because a DRF route
sends each method to its own action, so a new method on an old address needs a matrix of its own.

The check fails naming every endpoint that has no matrix and is not on the short ``ALLOWED`` list,
every entry naming an endpoint that no longer exists, one name given to several views, and every
listed test that is missing or does not run for every kind of user.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections import defaultdict
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from pytest_django.fixtures import Settings as SettingsWrapper
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tests.conftest import ALL_USERS, World

# Endpoints that deliberately have no roles × users matrix: public by design, or about the signed-in
# person only, never about a project.
ALLOWED: dict[str, str] = {
    "login": "public sign-in form",
    "logout": "ends the visitor's own session",
    "signup": "public sign-up form (closed by a setting)",
    "password_change": "the signed-in person's own password (Django's view, login required)",
    "password_change_done": "confirmation page of the person's own password change",
    "password_reset": "public: asks for a reset email",
    "password_reset_done": "public confirmation page",
    "password_reset_confirm": "the emailed, signed reset token is the credential",
    "password_reset_complete": "public confirmation page",
    "projects:invitation_accept": "the signed invitation token is the credential (test_membership_rules.py)",
    "share:page": "public share link: the key is the credential (test_share_links.py)",
    "share:file": "public share link download: the key is the credential",
    "embargoes:calendar_feed": "the .ics feed's personal token is the credential (test_embargo_calendar.py)",
    "api-root GET": "DRF's index of the API's addresses; holds no data",
    "api-schema GET": "the public OpenAPI description of the API; holds no data",
    "api-docs GET": "Swagger UI over the public schema; holds no data",
}
# Whole URL namespaces left to their own access control.
ALLOWED_NAMESPACES: dict[str, str] = {
    "admin": "Django admin: staff only, guarded by admin.site's own login and is_staff checks",
}

# Test module → matrix test function → the endpoints it checks for every user in ALL_USERS.
MATRICES: dict[str, dict[str, set[str]]] = {
    "tests/projects/test_access_matrix.py": {
        "test_web_matrix": {
            "projects:detail",
            "projects:members",
            "projects:edit",
            "projects:membership_update",
        },
        "test_remove_member_matrix": {"projects:membership_remove"},
        "test_api_matrix": {
            "project-detail GET",
            "project-detail PATCH",
            "project-detail PUT",
            "membership-list GET",
            "membership-list POST",
            "membership-detail GET",
            "membership-detail PATCH",
            "membership-detail DELETE",
        },
        "test_api_project_list_shows_only_visible": {"project-list GET"},
        "test_api_teams": {"team-list GET", "team-detail GET", "team-detail PATCH"},
    },
    "tests/projects/test_access_more.py": {
        "test_dashboard_and_project_list_matrix": {"dashboard", "projects:list"},
        "test_project_create_matrix": {"projects:create"},
        "test_api_project_create_matrix": {"project-list POST"},
        "test_facility_list_matrix": {"projects:facility_list"},
        "test_invitation_revoke_matrix": {"projects:invitation_revoke"},
        "test_team_pages_matrix": {"projects:team_list", "projects:team_detail"},
        "test_team_member_remove_matrix": {"projects:team_member_remove"},
        "test_api_team_writes_matrix": {"team-list POST", "team-detail PUT"},
        "test_api_membership_put_matrix": {"membership-detail PUT"},
    },
    "tests/audit/test_log_pages.py": {
        "test_page_matrix": {"projects:audit"},
        "test_api_matrix": {"project-audit GET"},
    },
    "tests/accounts/test_access_more.py": {
        "test_profile_matrix": {"profile"},
        "test_token_create_matrix": {"token_create"},
        "test_token_revoke_matrix": {"token_revoke"},
    },
    "tests/workers/test_access_more.py": {
        "test_task_status_matrix": {"task_status"},
    },
    "tests/vocabularies/test_access_more.py": {
        "test_term_search_matrix": {"vocabularies:term_options", "term-list GET", "term-detail GET"},
    },
    "tests/metadata/test_dataset_pages.py": {
        "test_dataset_pages_matrix": {
            "metadata:dataset_detail",
            "metadata:file_detail",
            "metadata:file_ome_xml",
            "metadata:project_datasets",
            "metadata:dataset_register",
            "metadata:dataset_scan",
        },
        "test_dataset_api_matrix": {
            "dataset-list GET",
            "dataset-detail GET",
            "dataset-files GET",
            "dataset-scans GET",
            "dataset-scans POST",
        },
    },
    "tests/metadata/test_instruments.py": {
        "test_only_stewards_manage_instruments": {"metadata:instrument_import", "metadata:instrument_list"},
    },
    "tests/metadata/test_share_links.py": {
        "test_sharing_page_matrix": {"metadata:dataset_sharing"},
        "test_revoke_matrix": {"metadata:share_revoke"},
        "test_api_matrix": {
            "dataset-share-links GET",
            "dataset-share-links POST",
            "dataset-share-link-revoke POST",
            "dataset-share-log GET",
        },
    },
    "tests/metadata/test_access_more.py": {
        "test_dataset_lists_matrix": {"metadata:index", "metadata:storage_usage"},
        "test_dataset_read_pages_matrix": {
            "metadata:dataset_describe",
            "metadata:rembi_edit",
            "metadata:rembi_export",
            "metadata:file_preview",
            "metadata:dataset_annotations",
            "metadata:annotations_csv",
        },
        "test_dataset_upload_matrix": {"metadata:dataset_upload"},
        "test_rembi_edit_matrix": {"metadata:rembi_edit"},
        "test_rembi_link_matrix": {"metadata:rembi_link"},
        "test_annotation_writes_matrix": {"metadata:dataset_annotations", "metadata:annotations_csv"},
        "test_instrument_form_matrix": {"metadata:instrument_create", "metadata:instrument_edit"},
        "test_instrument_from_file_matrix": {"metadata:instrument_from_file"},
        "test_api_dataset_register_matrix": {"dataset-list POST"},
        "test_api_rembi_matrix": {"dataset-rembi GET"},
    },
    "tests/dmp/test_wizard.py": {
        "test_only_editors_and_up_can_answer": {"dmp:answer_save"},
        "test_answers_api_roles_and_conflicts": {"plan-answers POST"},
    },
    "tests/dmp/test_templates.py": {
        "test_template_pages_and_facility_guidance": {"dmp:template_detail", "dmp:guidance_save"},
    },
    "tests/dmp/test_review.py": {
        "test_web_comment_matrix": {"dmp:comment_add"},
        "test_web_resolve_matrix": {"dmp:comment_resolve"},
        "test_web_request_feedback_matrix": {"dmp:review_request"},
        "test_web_complete_matrix": {"dmp:review_complete"},
        "test_web_withdraw_matrix": {"dmp:review_withdraw"},
        "test_review_queue_page_matrix": {"dmp:review_queue"},
        "test_review_detail_page_matrix": {"dmp:review_detail"},
        "test_api_comments_matrix": {"plan-comments GET", "plan-comments POST"},
        "test_api_resolve_matrix": {"plan-comment PATCH"},
        "test_api_review_request_matrix": {"plan-review-requests POST"},
        "test_api_complete_matrix": {"plan-review-complete POST"},
    },
    "tests/dmp/test_versions.py": {
        "test_web_matrix": {
            "dmp:plan_versions",
            "dmp:snapshot_new",
            "dmp:plan_diff",
            "dmp:snapshot_restore",
            "dmp:template_notice",
            "dmp:plan_history",
            "dmp:plan_upgrade",
        },
        "test_api_matrix": {
            "plan-snapshots GET",
            "plan-snapshots POST",
            "plan-diff GET",
            "plan-restore POST",
            "plan-history GET",
            "plan-upgrade GET",
            "plan-upgrade POST",
        },
    },
    "tests/dmp/test_living.py": {
        "test_web_access_matrix": {
            "dmp:living",
            "dmp:living_offers",
            "dmp:living_link",
            "dmp:living_unlink",
            "dmp:living_use",
            "dmp:living_snapshot",
        },
        "test_api_access_matrix": {
            "plan-living GET",
            "plan-links GET",
            "plan-links POST",
            "plan-link DELETE",
            "plan-snapshot-from-current POST",
        },
    },
    "tests/dmp/test_madmp_import.py": {
        "test_web_import_for_any_logged_in_user": {"dmp:plan_import"},
        "test_web_import_is_post_only": {"dmp:plan_import"},
        "test_api_import_for_any_logged_in_user": {"plan-import-madmp POST"},
    },
    "tests/dmp/test_estimator.py": {"test_access": {"dmp:plan_estimate"}},
    "tests/dmp/test_fair.py": {"test_access": {"dmp:plan_fair"}},
    "tests/dmp/test_exports.py": {
        "test_anyone_who_may_read_the_plan_may_download_it": {"dmp:plan_export"},
        "test_api_export_access": {"plan-export GET"},
    },
    "tests/dmp/test_journey.py": {
        "test_journey_page_matrix": {"project_journey"},
        "test_journey_api_matrix": {"project-journey GET"},
    },
    "tests/dmp/test_access_more.py": {
        "test_plans_index_matrix": {"dmp:index"},
        "test_plan_new_matrix": {"dmp:plan_new"},
        "test_plan_pages_matrix": {"dmp:plan_detail", "dmp:plan_section", "dmp:plan_madmp"},
        "test_plan_blocks_matrix": {"dmp:plan_blocks"},
        "test_comment_reopen_matrix": {"dmp:comment_reopen"},
        "test_api_plan_reads_matrix": {
            "plan-list GET",
            "plan-detail GET",
            "plan-answers GET",
            "plan-madmp GET",
            "plan-review-requests GET",
        },
        "test_api_review_withdraw_matrix": {"plan-review-withdraw POST"},
    },
    "tests/repositories/test_access.py": {
        "test_web_matrix": {
            "repositories:project_submissions",
            "repositories:submission_new",
            "repositories:detail",
            "repositories:check",
            "repositories:build",
            "repositories:transition",
            "repositories:release_date",
            "repositories:accession",
            "repositories:package_download",
        },
        "test_index_lists_only_visible_submissions": {"repositories:index"},
        "test_api_matrix": {
            "submission-list POST",
            "submission-detail GET",
            "submission-check POST",
            "submission-build POST",
            "submission-package GET",
            "submission-transition POST",
            "submission-release-date POST",
            "submission-accession POST",
        },
        "test_api_list_shows_only_visible_submissions": {"submission-list GET"},
    },
    "tests/repositories/test_zenodo_target.py": {
        "test_web_deposit_matrix": {"repositories:deposit"},
        "test_api_deposit_matrix": {"submission-deposit POST"},
    },
    "tests/repositories/test_zenodo_release.py": {
        "test_web_release_update_matrix": {"repositories:release_update"},
    },
    "tests/repositories/test_embargo_access.py": {
        "test_web_matrix": {"repositories:embargo", "repositories:publication_doi", "embargoes:project"},
        "test_everyone_logged_in_has_an_embargo_dashboard": {"embargoes:dashboard"},
        "test_the_facility_dashboard_is_for_its_stewards": {"embargoes:facility"},
        "test_everyone_logged_in_manages_their_own_calendar_address": {
            "embargoes:calendar_create",
            "embargoes:calendar_revoke",
        },
        "test_api_matrix": {
            "submission-embargo GET",
            "submission-embargo POST",
            "submission-publication-doi POST",
        },
        "test_api_facility_dashboard_is_for_its_stewards": {"submission-embargoes GET"},
        "test_api_personal_lists_need_a_login_only": {
            "submission-embargoes GET",
            "submission-upcoming-releases GET",
        },
    },
    "tests/repositories/test_facility_dashboard.py": {
        "test_index_lists_only_stewarded_facilities": {"facilities:index"},
        "test_dashboard_matrix": {"facilities:dashboard"},
        "test_dashboard_api_matrix": {"facility-dashboard GET"},
    },
}

# HEAD and OPTIONS are answered by the frameworks for every view; they never reach a view's own code.
_IMPLICIT_METHODS = frozenset({"head", "options"})

# endpoint key → (route, view) of every URL pattern that serves it
Endpoints = dict[str, list[tuple[str, Callable[..., Any]]]]


def _walk(
    resolver: URLResolver, prefix: str, namespaces: tuple[str, ...]
) -> Iterator[tuple[str, str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, prefix + str(entry.pattern), inner)
        else:
            route = prefix + str(entry.pattern)
            yield route, ":".join((*namespaces, entry.name or route)), entry


def _api_methods(view: Callable[..., Any]) -> list[str]:
    """The HTTP methods a DRF view handles itself; empty for anything that is not DRF."""
    # A viewset's method → action map; DRF adds "head" to it at the first GET it serves.
    actions: dict[str, str] | None = getattr(view, "actions", None)
    if actions:
        return sorted(method.upper() for method in actions if method not in _IMPLICIT_METHODS)
    view_class: type[APIView] | None = getattr(view, "cls", None)
    if view_class is None:
        return []
    return sorted(
        method.upper()
        for method in view_class.http_method_names
        if method not in _IMPLICIT_METHODS and hasattr(view_class, method)
    )


def url_endpoints(urlconf: str | None = None) -> Endpoints:
    """Every endpoint of the URL configuration (the site's own by default), format-suffix and
    other variants of one named route folded into one key: "namespace:name" for pages,
    "name METHOD" for each method of an API view. A route written exactly like an earlier one is
    left out: the earlier pattern always matches first, so nobody can reach it."""
    found: Endpoints = defaultdict(list)
    seen: set[str] = set()
    for route, name, pattern in _walk(get_resolver(urlconf), "", ()):
        if route in seen:
            continue
        seen.add(route)
        keys = [f"{name} {method}" for method in _api_methods(pattern.callback)] or [name]
        for key in keys:
            found[key].append((route, pattern.callback))
    return dict(found)


def _allowed_by_namespace(key: str, namespaces: Collection[str]) -> bool:
    return ":" in key and key.split(":", 1)[0] in namespaces


def coverage_problems(
    endpoints: Endpoints,
    matrices: Mapping[str, Mapping[str, Collection[str]]],
    allowed: Collection[str],
    allowed_namespaces: Collection[str],
) -> list[str]:
    """What is wrong with the coverage, one line each; empty when every endpoint has a matrix."""
    problems: list[str] = []
    covered = {key for tests in matrices.values() for keys in tests.values() for key in keys}
    for key, served in sorted(endpoints.items()):
        routes = ", ".join(sorted({"/" + route for route, _ in served}))
        if len({id(view) for _, view in served}) > 1:
            problems.append(f"{key} ({routes}): one name for several views; give each view its own name")
        if key not in covered and key not in allowed and not _allowed_by_namespace(key, allowed_namespaces):
            problems.append(
                f"no access matrix for {key} ({routes}): add a roles × users test for it and list it "
                "in MATRICES of tests/fairlight/test_url_coverage.py"
            )
    for module, tests in sorted(matrices.items()):
        for test, keys in sorted(tests.items()):
            problems += [
                f"stale entry: {module}::{test} lists {key}, which no URL pattern serves"
                for key in sorted(set(keys) - endpoints.keys())
            ]
    problems += [
        f"stale allowlist entry: {key} is no URL pattern" for key in sorted(set(allowed) - endpoints.keys())
    ]
    problems += [
        f"{key} is allowlisted but has a matrix; take it off the allowlist"
        for key in sorted(covered & set(allowed))
    ]
    return problems


def _parametrized_users(test: Callable[..., Any]) -> set[str]:
    users: set[str] = set()
    for mark in getattr(test, "pytestmark", []):
        if mark.name != "parametrize":
            continue
        argnames, values = mark.args[0], mark.args[1]
        names = [n.strip() for n in argnames.split(",")] if isinstance(argnames, str) else list(argnames)
        if "who" not in names:
            continue
        for value in values:
            if hasattr(value, "marks"):  # pytest.param(...): a tuple of values, one per name
                value = value.values
            elif len(names) == 1:
                value = (value,)
            users.add(value[names.index("who")])
    return users


def matrix_test_problems(matrices: Mapping[str, Mapping[str, Collection[str]]]) -> list[str]:
    """Listed tests that are missing or do not run for every kind of user."""
    problems: list[str] = []
    for module_path, tests in sorted(matrices.items()):
        dotted = module_path.removesuffix(".py").replace("/", ".")
        try:
            module = importlib.import_module(dotted)
        except ModuleNotFoundError as exc:
            if not dotted.startswith(exc.name or "-"):  # a module the test imports is missing
                raise
            problems.append(f"{module_path}: no such test module")
            continue
        for name in sorted(tests):
            test = getattr(module, name, None)
            if not callable(test):
                problems.append(f"{module_path}::{name}: no such test")
                continue
            missing = [who for who in ALL_USERS if who not in _parametrized_users(test)]
            if missing:
                problems.append(f"{module_path}::{name} does not run for {', '.join(missing)}")
    return problems


def test_every_url_pattern_has_an_access_matrix() -> None:
    problems = coverage_problems(url_endpoints(), MATRICES, ALLOWED, ALLOWED_NAMESPACES)
    assert not problems, "\n".join(problems)


def test_every_listed_matrix_runs_for_every_kind_of_user() -> None:
    problems = matrix_test_problems(MATRICES)
    assert not problems, "\n".join(problems)


def test_the_walk_sees_router_and_format_suffix_routes() -> None:
    endpoints = url_endpoints()
    assert sorted(route for route, _ in endpoints["plan-answers POST"]) == [
        "api/v1/^plans/(?P<pk>[0-9]+)/answers/$",
        "api/v1/^plans/(?P<pk>[0-9]+)/answers\\.(?P<format>[a-z0-9]+)/?$",
    ]
    assert "plan-answers GET" in endpoints
    assert "plan-answers DELETE" not in endpoints
    assert [route for route, _ in endpoints["dmp:plan_section"]] == ["plans/<int:pk>/s/<str:section>/"]
    admin = [key for key, served in endpoints.items() if served[0][0].startswith("admin/")]
    assert len(admin) > 50  # the admin's pages, unnamed ones included, all in its namespace
    assert all(key.startswith("admin:") for key in admin)


def test_serving_requests_does_not_change_the_endpoints(world: World) -> None:
    before = url_endpoints().keys()
    assert world.api("viewer").get("/api/v1/teams/").status_code == 200
    assert world.api("viewer").get(f"/api/v1/projects/{world.project.pk}/audit/").status_code == 403
    assert url_endpoints().keys() == before


def _secrets_page(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("secret")


class _SecretsApi(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response({})

    def post(self, request: Request, pk: int) -> Response:
        return Response({})


def test_a_new_url_pattern_without_a_matrix_is_reported(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = types.ModuleType("tests.fairlight.urls_with_an_extra_page")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("", include("fairlight.urls")),
        path("projects/<int:pk>/secrets/", _secrets_page, name="project_secrets"),
        path("api/v1/projects/<int:pk>/secrets/", _SecretsApi.as_view(), name="project-secrets"),
    ]
    monkeypatch.setitem(sys.modules, urls.__name__, urls)
    settings.ROOT_URLCONF = urls.__name__
    problems = coverage_problems(url_endpoints(), MATRICES, ALLOWED, ALLOWED_NAMESPACES)
    hint = "add a roles × users test for it and list it in MATRICES of tests/fairlight/test_url_coverage.py"
    assert [problem for problem in problems if "secrets" in problem] == [
        f"no access matrix for project-secrets GET (/api/v1/projects/<int:pk>/secrets/): {hint}",
        f"no access matrix for project-secrets POST (/api/v1/projects/<int:pk>/secrets/): {hint}",
        f"no access matrix for project_secrets (/projects/<int:pk>/secrets/): {hint}",
    ]


def test_a_second_view_under_a_used_name_is_reported(
    settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = types.ModuleType("tests.fairlight.urls_with_a_reused_name")
    urls.urlpatterns = [  # type: ignore[attr-defined]
        path("", include("fairlight.urls")),
        path("everything/", _secrets_page, name="dashboard"),
        # Shadowed by the real login page, which matches first: unreachable, so not a second view.
        path("accounts/login/", _secrets_page, name="login"),
    ]
    monkeypatch.setitem(sys.modules, urls.__name__, urls)
    settings.ROOT_URLCONF = urls.__name__
    problems = coverage_problems(url_endpoints(), MATRICES, ALLOWED, ALLOWED_NAMESPACES)
    assert [problem for problem in problems if "several views" in problem] == [
        "dashboard (/, /everything/): one name for several views; give each view its own name"
    ]


def test_stale_entries_and_weak_matrices_are_reported() -> None:
    matrices: dict[str, dict[str, set[str]]] = {
        "tests/dmp/test_fair.py": {"test_access": {"dmp:plan_fair", "dmp:gone"}},
        "tests/fairlight/test_url_coverage.py": {"test_every_url_pattern_has_an_access_matrix": set()},
        "tests/nowhere/test_missing.py": {"test_matrix": set()},
    }
    endpoints = url_endpoints()
    problems = coverage_problems(endpoints, matrices, {**ALLOWED, "old_page": "gone"}, ALLOWED_NAMESPACES)
    assert [problem for problem in problems if problem.startswith("stale")] == [
        "stale entry: tests/dmp/test_fair.py::test_access lists dmp:gone, which no URL pattern serves",
        "stale allowlist entry: old_page is no URL pattern",
    ]
    assert not any("dmp:plan_fair" in problem for problem in problems)
    assert matrix_test_problems(matrices) == [
        "tests/fairlight/test_url_coverage.py::test_every_url_pattern_has_an_access_matrix does not run for "
        + ", ".join(ALL_USERS),
        "tests/nowhere/test_missing.py: no such test module",
    ]
    doubled = coverage_problems(endpoints, MATRICES, {**ALLOWED, "dashboard": "home"}, ALLOWED_NAMESPACES)
    assert "dashboard is allowlisted but has a matrix; take it off the allowlist" in doubled
