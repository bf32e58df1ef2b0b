"""The iCalendar feed of release dates: RFC 5545 checked by a strict parser written here (the
`icalendar` package is not installed), a secret address that is stored hashed, and revocation."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

import pytest
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from accounts.models import User
from repositories import embargo
from repositories.embargo import ics_fold, ics_text
from repositories.models import CalendarFeedToken, State, Submission
from tests.conftest import World
from tests.repositories.conftest import in_days
from tests.repositories.test_embargo_reminders import tracked

# A content line: name, parameters without quoting (all the feed uses), then the value.
CONTENT_LINE = re.compile(r"^(?P<name>[A-Z][A-Z0-9-]*)(?P<params>(?:;[A-Z-]+=[^;:,\"]+)*):(?P<value>.*)$")
DATE = re.compile(r"^\d{8}$")
UTC_DATE_TIME = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass
class Component:
    name: str
    properties: list[tuple[str, dict[str, str], str]] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)

    def values(self, name: str) -> list[tuple[dict[str, str], str]]:
        return [(params, value) for prop, params, value in self.properties if prop == name]

    def one(self, name: str) -> tuple[dict[str, str], str]:
        found = self.values(name)
        assert len(found) == 1, f"{self.name} needs exactly one {name}, has {len(found)}"
        return found[0]


def unfold(data: bytes) -> list[str]:
    """Logical lines, checking that every physical line ends in CRLF and has at most 75 octets."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n"), "the last line must end with CRLF"
    lines: list[str] = []
    for physical in text[:-2].split("\r\n"):
        assert "\r" not in physical, f"bare CR in {physical!r}"
        assert "\n" not in physical, f"bare LF in {physical!r}"
        assert len(physical.encode()) <= 75, f"{len(physical.encode())} octets: {physical!r}"
        if physical.startswith((" ", "\t")):
            assert lines, "a continuation line cannot come first"
            lines[-1] += physical[1:]
        else:
            lines.append(physical)
    return lines


def parse(data: bytes) -> Component:
    stack: list[Component] = []
    root: Component | None = None
    for line in unfold(data):
        match = CONTENT_LINE.match(line)
        assert match, f"not a content line: {line!r}"
        name, value = match["name"], match["value"]
        params = dict(p.split("=", 1) for p in match["params"].split(";")[1:])
        if name == "BEGIN":
            component = Component(value)
            if stack:
                stack[-1].children.append(component)
            else:
                assert root is None, "one VCALENDAR per file"
                root = component
            stack.append(component)
        elif name == "END":
            assert stack, f"END:{value} without BEGIN"
            assert stack[-1].name == value, f"END:{value} does not close {stack[-1].name}"
            stack.pop()
        else:
            assert stack, f"{name} outside any component"
            stack[-1].properties.append((name, params, value))
    assert not stack, "unclosed components"
    assert root is not None
    assert root.name == "VCALENDAR"
    return root


def unescape(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11); an unescaped comma or semicolon is an error."""
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            assert following in ("\\", ";", ",", "n", "N"), f"bad escape \\{following} in {value!r}"
            out.append("\n" if following in "nN" else following)
        else:
            assert char not in ",;", f"unescaped {char!r} in {value!r}"
            out.append(char)
    return "".join(out)


def as_date(value: str) -> datetime.date:
    assert DATE.match(value), value
    return datetime.datetime.strptime(value, "%Y%m%d").date()


def events(data: bytes) -> dict[str, Component]:
    """The feed's VEVENTs by UID, after checking what RFC 5545 requires of them."""
    calendar = parse(data)
    assert calendar.one("VERSION")[1] == "2.0"
    assert calendar.one("PRODID")[1]
    found = {}
    for event in calendar.children:
        assert event.name == "VEVENT"
        uid = event.one("UID")[1]
        assert uid not in found
        assert UTC_DATE_TIME.match(event.one("DTSTAMP")[1])
        start_params, start = event.one("DTSTART")
        end_params, end = event.one("DTEND")
        assert start_params == end_params == {"VALUE": "DATE"}
        assert as_date(end) == as_date(start) + datetime.timedelta(days=1)
        unescape(event.one("SUMMARY")[1])
        unescape(event.one("DESCRIPTION")[1])
        found[uid] = event
    return found


def feed_key(client: Client) -> str:
    page = client.post("/embargoes/calendar/").content.decode()
    match = re.search(r"http://127\.0\.0\.1:8000/embargoes/calendar/([A-Za-z0-9_-]+)\.ics", page)
    assert match, page
    return match[1]


def test_the_feed_lists_the_release_dates_of_visible_submissions(world: World) -> None:
    ahead = tracked(world.project, release=in_days(12), title="Ahead", accession="S-BIAD1")
    overdue = tracked(world.project, release=in_days(-2), title="Overdue", accession="S-BIAD2")
    tracked(world.project, release=in_days(3), title="Withdrawn", state=State.WITHDRAWN)
    tracked(world.project, release=None, title="No date", state=State.SUBMITTED)
    tracked(world.other_project, release=in_days(4), title="Secret")
    key = feed_key(world.client("viewer"))
    response = Client().get(f"/embargoes/calendar/{key}.ics")  # no login: the address is the key
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="fairlight-releases.ics"'
    found = events(response.content)
    assert set(found) == {
        f"submission-{ahead.pk}-release@127.0.0.1",
        f"submission-{overdue.pk}-release@127.0.0.1",
    }
    event = found[f"submission-{ahead.pk}-release@127.0.0.1"]
    assert as_date(event.one("DTSTART")[1]) == in_days(12)
    assert unescape(event.one("SUMMARY")[1]) == "Release: Ahead (BioImage Archive)"
    assert unescape(event.one("DESCRIPTION")[1]) == (
        "Project: ZM: Zebrafish mitochondria\nRepository: BioImage Archive\n"
        "Embargo: Under embargo (release date in UTC)\nAccession: S-BIAD1"
    )
    assert event.one("URL")[1] == f"http://127.0.0.1:8000/submissions/{ahead.pk}/"
    overdue_event = found[f"submission-{overdue.pk}-release@127.0.0.1"]
    assert "Embargo: Overdue" in unescape(overdue_event.one("DESCRIPTION")[1])


def test_the_uid_stays_when_the_date_moves(world: World) -> None:
    submission = tracked(world.project, release=in_days(12), accession="S-BIAD1")
    key = feed_key(world.client("manager"))
    uid = f"submission-{submission.pk}-release@127.0.0.1"
    before = events(Client().get(f"/embargoes/calendar/{key}.ics").content)[uid]
    embargo.embargo_change(submission=submission, user=None, new_date=in_days(40), reason="Later.")
    after = events(Client().get(f"/embargoes/calendar/{key}.ics").content)[uid]
    assert as_date(before.one("DTSTART")[1]) == in_days(12)
    assert as_date(after.one("DTSTART")[1]) == in_days(40)


def test_long_titles_are_folded_and_special_characters_escaped(world: World) -> None:
    title = "Zebrafish, mitochondria; neurons \\ 3D — ünïcödé 日本語 🐟 " * 4 + "\r\nsecond line\x07"
    tracked(world.project, release=in_days(5), title=title)
    key = feed_key(world.client("viewer"))
    data = Client().get(f"/embargoes/calendar/{key}.ics").content
    (event,) = events(data).values()
    expected = title.replace("\r\n", "\n").replace("\x07", " ")
    assert unescape(event.one("SUMMARY")[1]) == f"Release: {expected} (BioImage Archive)"
    assert max(len(line) for line in data.split(b"\r\n")) == 75  # folded right at the limit


@given(st.text())
def test_any_text_survives_escaping_and_folding(text: str) -> None:
    line = ics_fold(f"DESCRIPTION:{ics_text(text)}")
    calendar = parse(f"BEGIN:VCALENDAR\r\n{line}END:VCALENDAR\r\n".encode())
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    normalised = "".join(c if c in "\t\n" or (c >= " " and c != "\x7f") else " " for c in normalised)
    assert unescape(calendar.one("DESCRIPTION")[1]) == normalised


def test_the_address_is_shown_once_and_stored_as_a_hash(world: World) -> None:
    client = world.client("viewer")
    key = feed_key(client)
    token = CalendarFeedToken.objects.get(user=world.users["viewer"])
    assert token.prefix == key[:8]
    assert key not in token.key_hash
    dashboard = client.get("/embargoes/").content.decode()
    assert key not in dashboard
    assert f"<code>{key[:8]}…</code>" in dashboard
    assert "last fetched never" in dashboard
    Client().get(f"/embargoes/calendar/{key}.ics")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_revoked_or_replaced_address_is_404(world: World) -> None:
    client = world.client("viewer")
    first = feed_key(client)
    second = feed_key(client)  # a new address replaces the old one
    assert Client().get(f"/embargoes/calendar/{first}.ics").status_code == 404
    assert Client().get(f"/embargoes/calendar/{second}.ics").status_code == 200
    assert CalendarFeedToken.objects.count() == 1
    response = client.post("/embargoes/calendar/revoke/", follow=True)
    assert "The calendar address was revoked" in response.content.decode()
    assert Client().get(f"/embargoes/calendar/{second}.ics").status_code == 404
    assert not CalendarFeedToken.objects.exists()


@pytest.mark.parametrize("key", ["unknown-key", "", "a" * 43])
def test_unknown_addresses_are_404(db: None, key: str) -> None:
    assert Client().get(f"/embargoes/calendar/{key}.ics").status_code == 404


def test_a_deactivated_users_address_is_404(world: World) -> None:
    key = feed_key(world.client("viewer"))
    User.objects.filter(username="viewer").update(is_active=False)
    assert Client().get(f"/embargoes/calendar/{key}.ics").status_code == 404


def test_a_member_who_leaves_stops_seeing_the_project(world: World) -> None:
    submission = tracked(world.project, release=in_days(5))
    key = feed_key(world.client("viewer"))
    assert events(Client().get(f"/embargoes/calendar/{key}.ics").content)
    world.project.memberships.filter(user__username="viewer").delete()
    assert events(Client().get(f"/embargoes/calendar/{key}.ics").content) == {}
    assert Submission.objects.filter(pk=submission.pk).exists()
