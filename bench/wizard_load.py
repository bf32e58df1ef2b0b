"""Wizard page under load: 20 concurrent clients on loopback against gunicorn.

Seeds a scratch database as quickstart does (the DMP templates, the demo project and user, and
the demo plan: the bioimaging-facility template with every question's example answer), starts
gunicorn on a free loopback port, logs in through the login form, then drives the wizard with
20 client threads. Each thread keeps its own HTTP connection open, sends the session cookie and
asks for the plan's sections in turn, a fixed number of requests each; every answer must be a
200 page. Prints p50 and p95 latency and the requests per second.
Target: p95 under 1 s with 20 clients on the 2-core reference machine.

    uv run python bench/wizard_load.py [--clients 20] [--requests 25] [--gunicorn-workers 4]
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _common import REPO, django_in_scratch, p50_p95

TARGET_MS = 1000.0
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed() -> tuple[str, str, list[str]]:
    """The demo plan; returns the user's name and password and the wizard's section paths."""
    from django.core.management import call_command

    from dmp.demo import demo_plan_ensure
    from dmp.wizard import top_sections
    from projects.demo import demo_ensure

    call_command("load_templates", stdout=io.StringIO())
    demo = demo_ensure(credentials_file=Path(os.environ["FAIRLIGHT_VAR_DIR"]) / "demo-credentials.txt")
    plan = demo_plan_ensure(project=demo.project, user=demo.user)
    if plan is None or demo.password is None:
        raise RuntimeError("the demo plan could not be created")
    sections = [f"/plans/{plan.pk}/s/{section['key']}/" for section in top_sections(plan)]
    return demo.user.username, demo.password, sections


def start_gunicorn(port: int, workers: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "fairlight.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--error-logfile", str(log),
        ],
        cwd=REPO,
        env=os.environ.copy(),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start; see {log}") from None
            time.sleep(0.1)


def log_in(port: int, username: str, password: str) -> str:
    """Log in through the form, as a person would; returns the session cookie."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    page = response.read().decode()
    cookies = SimpleCookie(response.getheader("Set-Cookie", ""))
    found = CSRF_FIELD.search(page)
    if found is None or "csrftoken" not in cookies:
        raise RuntimeError("the login page has no CSRF token")
    body = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": found[1]})
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken'].value}",
        },
    )
    response = connection.getresponse()
    response.read()
    session = SimpleCookie(response.getheader("Set-Cookie", "")).get("sessionid")
    if response.status != 302 or session is None:
        raise RuntimeError(f"logging in failed with status {response.status}")
    connection.close()
    return session.value


def client(
    port: int,
    session: str,
    paths: list[str],
    count: int,
    start: threading.Barrier,
    out: list[float],
    offset: int,
) -> None:
    """One person clicking through the wizard: its own connection, starting at its own section."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start.wait()
    for index in range(count):
        path = paths[(offset + index) % len(paths)]
        began = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        response.read()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
        out.append(elapsed)
    connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="requests per client")
    parser.add_argument("--gunicorn-workers", type=int, default=4)
    args = parser.parse_args()
    storage = Path(tempfile.mkdtemp(prefix="fairlight-bench-storage-"))
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1"
    scratch = django_in_scratch(storage)
    server: subprocess.Popen[bytes] | None = None
    try:
        username, password, paths = seed()
        port = free_port()
        server = start_gunicorn(port, args.gunicorn_workers, scratch / "gunicorn.log")
        print(
            f"wizard load benchmark: {args.clients} clients x {args.requests} requests over the "
            f"{len(paths)} wizard sections of the demo plan; gunicorn with {args.gunicorn_workers} "
            "workers, SQLite"
        )
        session = log_in(port, username, password)
        warm: list[float] = []
        client(port, session, paths, 2 * len(paths), threading.Barrier(1), warm, 0)
        timings: list[list[float]] = [[] for _ in range(args.clients)]
        barrier = threading.Barrier(args.clients + 1)
        threads = [
            threading.Thread(
                target=client, args=(port, session, paths, args.requests, barrier, timing, index)
            )
            for index, timing in enumerate(timings)
        ]
        for thread in threads:
            thread.start()
        barrier.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join(timeout=600)
        wall = time.perf_counter() - began
        samples = [sample for timing in timings for sample in timing]
        if len(samples) != args.clients * args.requests:
            raise RuntimeError(f"only {len(samples)} of {args.clients * args.requests} requests succeeded")
        p50, p95 = p50_p95(samples)
        print(f"  one client alone (warm-up)     p50 {p50_p95(warm)[0]:7.1f} ms")
        print(f"  {args.clients} concurrent clients          p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   "
              f"{len(samples) / wall:6.1f} requests/s")  # fmt: skip
        print(
            f"  ratio p95 / target: {p95 / TARGET_MS:5.2f}x of {TARGET_MS:.0f} ms   "
            f"(target p95 < {TARGET_MS:.0f} ms, ratio < 1)"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(storage, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
