"""Plan exports for people: PDF (A4, cover, contents, page numbers), HTML and Markdown; the same
plan through the web, the API and the command line, and user text that never becomes markup."""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from dmp import exports
from dmp.answers import answer_save, answers_of, blocks_change, is_visible, plan_create
from dmp.models import Answer, Plan, Template
from dmp.template_files import iter_questions
from tests.conftest import ALL_USERS, World
from tests.dmp.test_madmp import demo_fill, loaded  # noqa: F401
from tests.projects.test_access_matrix import outcome

EVIL = '<script>alert("owned")</script> & <b>bold</b>'
# Lines that would restructure a Markdown document if they were not escaped.
MD_EVIL = (
    "# Not a heading\n- not a list\n1. not ordered\n> not a quote\n| not | a row |\n"
    "[click](javascript:x) *em* `code`"
)
# The sections of the Commission's Horizon Europe DMP template (version 1.1, 2021).
HORIZON_SECTIONS = [
    "1 Data summary",
    "2 FAIR data",
    "2.1 Making data findable, including provisions for metadata",
    "2.2 Making data accessible",
    "2.3 Making data interoperable",
    "2.4 Increase data re-use",
    "3 Other research outputs",
    "4 Allocation of resources",
    "5 Data security",
    "6 Ethics",
    "7 Other issues",
]
PURPOSE = "he.data_summary.purpose"
MARKUP_TAGS = (
    "<script",
    "<b>",
    "<h1",
    "<h2",
    "<ul",
    "<ol",
    "<blockquote",
    "<a ",
    "<em",
    "<code",
    "<pre",
    "<table",
)


def _numbered_headings(template: Template) -> list[str]:
    headings = []
    pending = list(template.sections)
    while pending:
        section = pending.pop(0)
        if section.get("number"):
            headings.append(f"{section['number']} {section['title']}")
        pending[:0] = section.get("sections", [])
    return headings


def _visible_questions(plan: Plan) -> list[dict[str, Any]]:
    values = {key: answer.value for key, answer in answers_of(plan).items()}
    return [
        question
        for question, _, block in iter_questions(plan.template.content)
        if any(is_visible(question, values, b["id"] if block else "") for b in plan.blocks)
    ]


@pytest.fixture
def plan(world: World, loaded: None) -> Plan:  # noqa: F811
    project = world.project
    project.funder, project.grant_id = "European Commission", "101099999"
    project.save()
    owner = world.users["owner"]
    owner.first_name, owner.last_name, owner.orcid = "Ada", "Lovelace", "0000-0002-1825-0097"
    owner.save()
    plan = plan_create(
        project=project, template=Template.objects.get(key="horizon-europe"), title="Organoid DMP", user=owner
    )
    blocks_change(plan=plan, action="add", title="Segmentations <i>v2</i>")
    demo_fill(plan)
    answer_save(
        plan=plan, user=owner, question_key=PURPOSE, block_id="", raw=f"{EVIL}\n\n{MD_EVIL}", version=1
    )
    plan.refresh_from_db()
    return plan


def _pdf_pages(content: bytes) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed; cannot read the PDF's text")
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    return [" ".join(page.split()) for page in text.split("\f") if page.strip()]


# ---------------------------------------------------------------------------------------------- PDF


def test_pdf_has_cover_contents_every_section_and_page_numbers(plan: Plan) -> None:
    export = exports.plan_export(plan=plan, kind="pdf")
    assert export.content.startswith(b"%PDF-")
    assert export.filename == "organoid-dmp.pdf"
    pages = _pdf_pages(export.content)
    cover, contents, body = pages[0], pages[1], pages[2:]
    for fact in ("Organoid DMP", "ZM: Zebrafish mitochondria", "European Commission", "101099999"):
        assert fact in cover
    assert "Ada Lovelace" in cover
    assert "https://orcid.org/0000-0002-1825-0097" in cover
    assert "Horizon Europe Data Management Plan, version 2021.1" in cover
    assert "Page 1 of" not in cover  # the cover carries no footer
    headings = _numbered_headings(plan.template)
    assert set(HORIZON_SECTIONS) <= set(headings)
    body_text = " ".join(body)
    for heading in headings:
        assert heading in contents
        assert heading in body_text
    # Every page after the cover has "Page n of N" and the plan's title in its footer.
    total = len(pages)
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {total}" in page
        assert "Organoid DMP" in page
    # The contents give the page each section starts on.
    for heading in HORIZON_SECTIONS:
        listed = re.search(re.escape(heading) + r" [. ]*?(\d+)(?: |$)", contents)
        assert listed is not None, heading
        first_page = next(n for n, page in enumerate(pages, start=1) if n > 2 and heading in page)
        assert int(listed.group(1)) == first_page, heading
    assert "Summary of planned datasets" in pages[-1]


def test_pdf_shows_user_markup_as_text(plan: Plan) -> None:
    pages = _pdf_pages(exports.plan_export(plan=plan, kind="pdf").content)
    text = " ".join(pages)
    assert '<script>alert("owned")</script> & <b>bold</b>' in text
    assert "Segmentations <i>v2</i>" in text


def test_pdf_export_never_fetches_a_url() -> None:
    fetcher = exports._refuse_fetching()
    for url in ("http://example.org/x.css", "https://example.org/font.woff", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed protocol"):
            fetcher(url)


# --------------------------------------------------------------------------------------------- HTML


def test_html_is_standalone_and_shows_every_visible_question(plan: Plan) -> None:
    page = exports.plan_export(plan=plan, kind="html").content.decode()
    assert page.startswith("<!doctype html>")
    assert "<link" not in page
    assert "<script" not in page
    assert 'style="' not in page
    assert "@page" in page  # its own print stylesheet, inlined
    visible = _visible_questions(plan)
    hidden = [q for q, _, _ in iter_questions(plan.template.content) if q not in visible]
    for question in visible:
        assert html.escape(question["text"]) in page, question["key"]
    for question in hidden:
        assert html.escape(question["text"]) not in page, question["key"]
    for heading in _numbered_headings(plan.template):
        assert html.escape(heading) in page


def test_html_shows_answers_in_words_and_escapes_user_text(plan: Plan) -> None:
    page = exports.plan_export(plan=plan, kind="html").content.decode()
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in page
    assert "Planned dataset: Segmentations &lt;i&gt;v2&lt;/i&gt;" in page
    assert "Raw images (as acquired)" in page  # a choice by its label
    assert "raw_images" not in page
    assert "8,000 GB" in page  # a number with its unit
    assert "30 June 2027" in page  # a date in words
    assert re.search(
        r'<p class="question">Is this dataset re-used[^<]*</p>\s*<div class="answer"><p>No</p>', page
    )
    # The second planned dataset is not answered: its questions say so.
    assert page.count("Not answered") >= 10


def test_unanswered_plan_exports_every_question_as_not_answered(world: World, loaded: None) -> None:  # noqa: F811
    plan = plan_create(
        project=world.project,
        template=Template.objects.get(key="science-europe"),
        title="Empty",
        user=world.users["owner"],
    )
    document = exports.plan_document(plan=plan)
    items = [i for s in document.sections for i in [*s.items, *(i for p in s.datasets for i in p.items)]]
    assert items
    assert all(item.answer is None for item in items)
    assert document.grant == ""
    assert "Grant:** Not given" in exports.render_markdown(document)


def test_answers_are_shown_in_words() -> None:
    terms = exports._Terms([])
    choice = {"type": "single_choice", "choices": [{"value": "open", "label": "Open access"}]}
    many = {
        "type": "multiple_choice",
        "choices": [{"value": "a", "label": "Alpha"}, {"value": "b", "label": "B"}],
    }
    assert exports.show_answer({"type": "yes_no"}, True, terms) == exports.Shown(paragraphs=("Yes",))
    assert exports.show_answer({"type": "yes_no"}, False, terms) == exports.Shown(paragraphs=("No",))
    assert exports.show_answer(choice, "open", terms) == exports.Shown(paragraphs=("Open access",))
    assert exports.show_answer(many, ["a", "b"], terms) == exports.Shown(items=("Alpha", "B"))
    number = {"type": "number", "unit": "TB"}
    assert exports.show_answer(number, 12.0, terms) == exports.Shown(paragraphs=("12 TB",))
    assert exports.show_answer(number, 1234.5, terms) == exports.Shown(paragraphs=("1,234.5 TB",))
    assert exports.show_answer({"type": "date"}, "2027-01-05", terms) == exports.Shown(
        paragraphs=("5 January 2027",)
    )
    text = exports.show_answer({"type": "long_text"}, "One\nline two\n\n\nTwo", terms)
    assert text == exports.Shown(paragraphs=("One\nline two", "Two"))
    empties: tuple[Any, ...] = (None, "", [])
    for empty in empties:
        assert exports.show_answer({"type": "text"}, empty, terms) is None


def test_ontology_terms_and_licences_are_shown_by_label(world: World, loaded: None, ontologies: None) -> None:  # noqa: F811
    terms = exports._Terms(["http://purl.obolibrary.org/obo/FBbi_00000369", "CC-BY-4.0", "my own licence"])
    shown = exports.show_answer(
        {"type": "ontology_term"}, "http://purl.obolibrary.org/obo/FBbi_00000369", terms
    )
    assert shown is not None
    assert "(FBbi:00000369)" in shown.one_line
    licence = exports.show_answer({"type": "licence"}, "CC-BY-4.0", terms)
    assert licence is not None
    assert licence.one_line.startswith("Creative Commons Attribution 4.0")
    assert exports.show_answer({"type": "licence"}, "my own licence", terms) == exports.Shown(
        paragraphs=("my own licence",)
    )


# ----------------------------------------------------------------------------------------- Markdown


def test_markdown_has_numbered_headings_every_question_and_the_datasets_table(plan: Plan) -> None:
    text = exports.plan_export(plan=plan, kind="md").content.decode()
    assert text.startswith("# Organoid DMP\n")
    assert "\n## 1 Data summary\n" in text
    assert "\n### 2.1 Making data findable, including provisions for metadata\n" in text
    assert "\n### 2.4 Increase data re-use\n" in text
    for question in _visible_questions(plan):
        assert f"**{exports.md_inline(question['text'])}**" in text, question["key"]
    assert "| Dataset | Type | Size | Access | Repository | Licence | Open from |" in text
    assert "| Segmentations \\<i\\>v2\\</i\\> | Not answered |" in text


def test_markdown_keeps_user_text_from_changing_the_structure(plan: Plan) -> None:
    text = exports.plan_export(plan=plan, kind="md").content.decode()
    assert '> \\<script\\>alert("owned")\\</script\\> & \\<b\\>bold\\</b\\>' in text
    assert "> \\# Not a heading \\\n> \\- not a list \\\n> 1\\. not ordered \\\n> \\> not a quote" in text
    assert not re.search(r"^(# Not|- not|1\. not)", text, re.MULTILINE)


def test_markdown_renders_user_text_as_text() -> None:
    markdown_it = pytest.importorskip("markdown_it", reason="markdown-it-py renders the Markdown to check it")
    renderer = markdown_it.MarkdownIt("commonmark").enable("table")
    source = f"{EVIL}\n{MD_EVIL}\n===\n    indented &amp; _x_ ~~y~~ \\"
    rendered = renderer.render(exports.md_escape(source))
    for tag in MARKUP_TAGS:
        assert tag not in rendered, tag
    assert "&lt;script&gt;" in rendered
    assert "&amp;amp;" in rendered  # an entity the user typed stays as typed
    heading = renderer.render("## " + exports.md_inline("Title *not em* <img src=x> | pipe"))
    assert heading == "<h2>Title *not em* &lt;img src=x&gt; | pipe</h2>\n"


# ---------------------------------------------------------------------------------- command line


def test_command_writes_every_format(plan: Plan, tmp_path: Path) -> None:
    for kind, check in (
        ("pdf", lambda b: b.startswith(b"%PDF-")),
        ("html", lambda b: b'<h1 class="doc-title">Organoid DMP</h1>' in b),
        ("md", lambda b: b.startswith(b"# Organoid DMP\n")),
        ("madmp", lambda b: json.loads(b)["dmp"]["title"] == "Organoid DMP"),
    ):
        target = tmp_path / f"plan.{kind}"
        out = io.StringIO()
        call_command("plan_export", str(plan.pk), "--format", kind, "--output", str(target), stdout=out)
        assert check(target.read_bytes()), kind
        assert f"Wrote {target}" in out.getvalue()


def test_command_writes_text_to_standard_output_but_never_a_pdf(plan: Plan) -> None:
    out = io.StringIO()
    call_command("plan_export", str(plan.pk), "--format", "md", "--output", "-", stdout=out)
    assert out.getvalue().startswith("# Organoid DMP\n")
    with pytest.raises(CommandError, match="A PDF is binary"):
        call_command("plan_export", str(plan.pk), "--format", "pdf", stdout=io.StringIO())
    with pytest.raises(CommandError, match="There is no plan"):
        call_command("plan_export", "999999", "--format", "md", stdout=io.StringIO())


def test_unknown_kind_is_refused(plan: Plan) -> None:
    with pytest.raises(ValidationError, match="Cannot export a plan as 'docx'"):
        exports.plan_export(plan=plan, kind="docx")


# -------------------------------------------------------------------------------------- web and API


@pytest.mark.parametrize("who", ALL_USERS)
def test_anyone_who_may_read_the_plan_may_download_it(world: World, plan: Plan, who: str) -> None:
    response = world.client(who).get(f"/plans/{plan.pk}/export.md")
    expected = {"anonymous": "login", "outsider": 404}.get(who, 200)
    assert outcome(response) == expected
    if expected == 200:
        assert response["Content-Disposition"] == 'attachment; filename="organoid-dmp.md"'


@pytest.mark.parametrize(
    ("kind", "content_type", "start"),
    [
        ("pdf", "application/pdf", b"%PDF-"),
        ("html", "text/html; charset=utf-8", b"<!doctype html>"),
        ("md", "text/markdown; charset=utf-8", b"# Organoid DMP"),
    ],
)
def test_web_download_of_each_format(
    world: World, plan: Plan, kind: str, content_type: str, start: bytes
) -> None:
    response = world.client("viewer").get(f"/plans/{plan.pk}/export.{kind}")
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="organoid-dmp.{kind}"'
    assert response.content.startswith(start)


def test_web_download_of_an_unknown_format_or_plan_is_not_found(world: World, plan: Plan) -> None:
    client = world.client("viewer")
    assert client.get(f"/plans/{plan.pk}/export.docx").status_code == 404
    assert client.get("/plans/999999/export.pdf").status_code == 404
    assert world.client("outsider").get(f"/plans/{plan.pk}/export.docx").status_code == 404


def test_plan_page_links_every_export(world: World, plan: Plan) -> None:
    page = world.client("viewer").get(f"/plans/{plan.pk}/", follow=True).content.decode()
    for kind in ("pdf", "html", "md"):
        assert f'href="/plans/{plan.pk}/export.{kind}"' in page
    assert f'href="/plans/{plan.pk}/madmp.json"' in page


@pytest.mark.parametrize("who", ALL_USERS)
def test_api_export_access(world: World, plan: Plan, who: str) -> None:
    response = world.api(who).get(f"/api/v1/plans/{plan.pk}/export/?as=md")
    expected = {"anonymous": 401, "outsider": 404}.get(who, 200)
    assert response.status_code == expected
    if expected == 200:
        assert response.content.startswith(b"# Organoid DMP")


def test_api_export_formats_and_a_bad_one(world: World, plan: Plan) -> None:
    api = world.api("reviewer")
    pdf = api.get(f"/api/v1/plans/{plan.pk}/export/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    page = api.get(f"/api/v1/plans/{plan.pk}/export/?as=html")
    assert page["Content-Disposition"] == 'attachment; filename="organoid-dmp.html"'
    bad = api.get(f"/api/v1/plans/{plan.pk}/export/?as=docx")
    assert bad.status_code == 400
    assert bad.json() == {"as": "Use pdf, html or md, not 'docx'."}


@pytest.mark.parametrize("key", ["nih-dmsp", "science-europe", "bioimaging-facility"])
def test_every_shipped_template_exports(world: World, loaded: None, key: str) -> None:  # noqa: F811
    template = Template.objects.get(key=key)
    plan = plan_create(
        project=world.project, template=template, title=f"{key} plan", user=world.users["owner"]
    )
    demo_fill(plan)
    document = exports.plan_document(plan=plan)
    page = exports.render_html(document)
    text = exports.render_markdown(document)
    for heading in _numbered_headings(template):
        assert html.escape(heading) in page
        assert exports.md_inline(heading) in text
    assert document.datasets.rows[0][0] != plan.blocks[0]["title"]  # the dataset's answered title
    assert Answer.objects.filter(plan=plan).count() > 10
