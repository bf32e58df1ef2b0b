"""The submission pages as people use them: the router's advice, the pre-flight report in
plain words, the build with its progress, the download and the next steps."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from metadata.models import Dataset, RembiRecord
from repositories.models import State, Submission
from tests.conftest import World, make_user
from tests.repositories.conftest import describe, in_days

CaptureOnCommit = Callable[..., AbstractContextManager[object]]
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "package"}


def test_project_page_links_to_its_submissions(world: World) -> None:
    page = world.client("viewer").get(f"/projects/{world.project.pk}/").content.decode()
    assert f'href="/submissions/project/{world.project.pk}/"' in page


def test_new_submission_shows_the_routers_advice(world: World, described: Dataset) -> None:
    client = world.client("editor")
    page = client.get(f"/submissions/project/{world.project.pk}/new/").content.decode()
    assert "<strong>BioImage Archive</strong> is the best fit." in page
    assert "any biological image data behind a study" in page
    assert "fits in one Zenodo record" in page
    cryo = client.get(f"/submissions/project/{world.project.pk}/new/?modality=cryo-em").content.decode()
    assert "EMPIAR" in cryo
    screen = client.get(f"/submissions/project/{world.project.pk}/new/?modality=light&is_screen=on").content
    assert "<strong>Image Data Resource</strong> is the best fit." in screen.decode()
    assert "are not available yet" not in page  # all three repositories have packages


def test_creating_a_submission(world: World, described: Dataset) -> None:
    response = world.client("editor").post(
        f"/submissions/project/{world.project.pk}/new/",
        {"title": "To the BIA", "target": "bia", "datasets": [described.pk], "release_date": in_days(9)},
    )
    submission = Submission.objects.get()
    assert response["Location"] == f"/submissions/{submission.pk}/"
    assert (submission.title, submission.state, submission.release_date) == (
        "To the BIA",
        "draft",
        in_days(9),
    )
    assert list(submission.datasets.all()) == [described]


def test_creating_without_datasets_says_so(world: World, described: Dataset) -> None:
    response = world.client("editor").post(
        f"/submissions/project/{world.project.pk}/new/", {"title": "T", "target": "bia", "release_date": ""}
    )
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not Submission.objects.exists()


def test_the_report_in_plain_words_then_build_and_download(
    world: World,
    submission: Submission,
    run_tasks: Callable[[], None],
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    RembiRecord.objects.filter(class_name="Study").delete()
    editor = world.client("editor")
    page = editor.post(f"/submissions/{submission.pk}/check/", follow=True).content.decode()
    assert "problems must be fixed before packaging." in page
    assert "Study of “S” is not described yet: Licence is required." in page
    assert f'href="/datasets/{submission.datasets.get().pk}/describe/Study/"' in page
    assert "Build the package" not in page

    RembiRecord.objects.all().delete()
    describe(submission.datasets.get(), release=in_days(30))
    page = editor.post(f"/submissions/{submission.pk}/check/", follow=True).content.decode()
    assert "Nothing blocks packaging: the submission is checked." in page
    assert "Build the package" in page
    assert (
        world.client("viewer")
        .get(f"/submissions/{submission.pk}/")
        .content.decode()
        .count("Build the package")
        == 0
    )

    with django_capture_on_commit_callbacks(execute=True):
        page = editor.post(f"/submissions/{submission.pk}/build/", follow=True).content.decode()
    assert "Building the package" in page
    assert 'hx-trigger="every 2s"' in page
    run_tasks()
    fragment = editor.get(f"/submissions/{submission.pk}/", **HTMX).content.decode()  # type: ignore[arg-type]
    assert fragment.lstrip().startswith('<section id="package"')
    assert "Download the package (ZIP)" in fragment
    assert "every 2s" not in fragment
    # The state above the panel changed with the build: the browser reloads the whole page.
    assert editor.get(f"/submissions/{submission.pk}/", **HTMX)["HX-Refresh"] == "true"  # type: ignore[arg-type]
    page = editor.get(f"/submissions/{submission.pk}/").content.decode()
    assert "Next steps" in page
    assert "load pagetab/submission.tsv" in page
    assert "ro-crate-metadata.json" in page


def test_managers_see_the_archive_actions_and_viewers_none(world: World, packaged: Submission) -> None:
    manager = world.client("manager").get(f"/submissions/{packaged.pk}/").content.decode()
    assert "Mark as submitted" in manager
    assert "Back to draft" in manager
    assert "Change the release date" in manager
    editor = world.client("editor").get(f"/submissions/{packaged.pk}/").content.decode()
    assert "Back to draft" in editor
    assert "Mark as submitted" not in editor
    viewer = world.client("viewer").get(f"/submissions/{packaged.pk}/").content.decode()
    assert "Back to draft" not in viewer
    assert "Run the pre-flight check" not in viewer
    assert "Download the package (ZIP)" in viewer


def test_refusals_are_shown_as_messages(world: World, packaged: Submission) -> None:
    page = (
        world.client("owner")
        .post(f"/submissions/{packaged.pk}/release-date/", {"release_date": in_days(-2)}, follow=True)
        .content.decode()
    )
    assert "is in the past (today is" in page
    packaged.refresh_from_db()
    assert packaged.state == State.PACKAGED


def test_history_names_who_and_when(world: World, packaged: Submission) -> None:
    world.client("manager").post(
        f"/submissions/{packaged.pk}/state/", {"to_state": "submitted", "note": "FTP done."}
    )
    page = world.client("viewer").get(f"/submissions/{packaged.pk}/").content.decode()
    assert "Packaged → Submitted" in page
    assert "FTP done." in page
    assert world.users["manager"].display_name() in page


def test_admin_lists_submissions_with_their_history(world: World, packaged: Submission) -> None:
    admin = make_user("admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = world.client("viewer")
    client.force_login(admin)
    assert client.get("/admin/repositories/submission/").status_code == 200
    change = client.get(f"/admin/repositories/submission/{packaged.pk}/change/")
    assert change.status_code == 200
    assert "Package built." in change.content.decode()
