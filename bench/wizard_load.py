"""Wizard page under load: 20 concurrent clients on loopback against gunicorn, driven by wrk.

Seeds a scratch database as quickstart does (the DMP templates, the demo project and user, and
the demo plan: the bioimaging-facility template with every question's example answer), starts
gunicorn on a free loopback port and logs in through the login form. One client then walks the
wizard's sections alone (the comparison), and wrk (bench/wizard_load.lua) drives 20 connections
for a fixed time, each sending the session cookie and asking for the plan's sections in turn;
every answer must be a 200 page. Prints p50 and p95 latency and the requests per second.
wrk is a C program, so the load generator takes little of the CPU the server needs; it is
Debian's package `wrk` (bench/run_all installs it when it can).
Target: p95 under 1 s with 20 clients on the 2-core reference machine.

    uv run python bench/wizard_load.py [--clients 20] [--seconds 20] [--gunicorn-workers 4]
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
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from _common import REPO, django_in_scratch, p50_p95

TARGET_MS = 1000.0
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WRK_SCRIPT = Path(__file__).with_name("wizard_load.lua")
WRK_RESULT = re.compile(r"^RESULT (.*)$", re.MULTILINE)


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


def walk_alone(port: int, session: str, paths: list[str]) -> list[float]:
    """One person clicking through the wizard twice, alone; returns the latencies in ms."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples: list[float] = []
    for path in paths + paths:
        began = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}"})
        response = connection.getresponse()
        response.read()
        samples.append((time.perf_counter() - began) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    connection.close()
    return samples


def run_wrk(port: int, session: str, paths: list[str], clients: int, seconds: int) -> dict[str, float]:
    """wrk's numbers for ``clients`` connections over ``seconds``, from the script's RESULT line."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk (bench/run_all does it as root)")
    completed = subprocess.run(
        [
            wrk, "--threads", "2", "--connections", str(clients), "--duration", f"{seconds}s",
            # A slow answer must count in the percentiles, not vanish as a timeout.
            "--timeout", "60s", "--script", str(WRK_SCRIPT), f"http://127.0.0.1:{port}",
            "--", session, *paths,
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    found = WRK_RESULT.search(completed.stdout)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
    result = {key: float(value) for key, value in (item.split("=") for item in found[1].split())}
    if result["not_ok"] or result["errors"]:
        raise RuntimeError(
            f"{result['not_ok']:.0f} answers were not 200 pages and {result['errors']:.0f} requests "
            f"failed; see {WRK_SCRIPT.name} and the gunicorn log"
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=20, help="how long wrk drives the clients")
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
            f"wizard load benchmark: wrk with {args.clients} connections for {args.seconds} s over the "
            f"{len(paths)} wizard sections of the demo plan; gunicorn with {args.gunicorn_workers} "
            "workers, SQLite"
        )
        session = log_in(port, username, password)
        alone = walk_alone(port, session, paths)
        result = run_wrk(port, session, paths, args.clients, args.seconds)
        p95 = result["p95_ms"]
        print(f"  one client alone               p50 {p50_p95(alone)[0]:7.1f} ms")
        rate = result["requests"] / result["seconds"]
        print(f"  {args.clients} concurrent clients          p50 {result['p50_ms']:7.1f} ms   "
              f"p95 {p95:7.1f} ms   max {result['max_ms']:7.1f} ms   {rate:6.1f} requests/s "
              f"({result['requests']:.0f} pages, all 200)")  # fmt: skip
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
