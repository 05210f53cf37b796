"""The load client of bench/registry_scale.py: threads, one requests.Session each, latencies per request.

No Django here. An operation is a list of requests (method, URL, JSON body) drawn beforehand with a
seeded random generator; ``run`` sends them from ``concurrency`` threads until all are sent or the
time budget is spent, and returns every latency (the body read included) and the errors.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Call:
    method: str
    url: str
    body: dict[str, Any] | None = None


@dataclass
class Outcome:
    latencies_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_s)
        return {
            "n": len(ordered),
            "errors": len(self.errors),
            "first_error": self.errors[0] if self.errors else "",
            "p50_ms": 1000 * percentile(ordered, 0.50) if ordered else None,
            "p95_ms": 1000 * percentile(ordered, 0.95) if ordered else None,
            "max_ms": 1000 * ordered[-1] if ordered else None,
            "elapsed_s": self.elapsed_s,
            "per_s": len(ordered) / self.elapsed_s if self.elapsed_s else None,
        }


def percentile(ordered: list[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def session_for(headers: dict[str, str], cookies: dict[str, str]) -> requests.Session:
    session = requests.Session()
    session.headers.update(headers)
    session.cookies.update(cookies)
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
    session.mount("http://", adapter)
    return session


def sign_in(base: str, username: str, password: str) -> dict[str, str]:
    """Sign in through the sign-in form (with its CSRF token) and return the session's cookies."""
    session = requests.Session()
    page = session.get(f"{base}/accounts/sign-in/", timeout=60)
    found = CSRF.search(page.text)
    if found is None:
        raise RuntimeError(f"no CSRF token on the sign-in page ({page.status_code})")
    answer = session.post(
        f"{base}/accounts/sign-in/",
        data={"csrfmiddlewaretoken": found.group(1), "username": username, "password": password},
        headers={"Referer": f"{base}/accounts/sign-in/"},
        timeout=60,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"sign-in of {username} answered {answer.status_code}: {answer.text[:300]}")
    return dict(session.cookies.get_dict())


def run(
    calls: list[Call],
    *,
    concurrency: int,
    headers: dict[str, str],
    cookies: dict[str, str],
    budget_s: float,
    expect: tuple[int, ...] = (200,),
    timeout_s: float = 300.0,
) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()
    position = iter(range(len(calls)))
    deadline = time.perf_counter() + budget_s

    def worker() -> None:
        session = session_for(headers, cookies)
        while time.perf_counter() < deadline:
            with lock:
                index = next(position, None)
            if index is None:
                return
            call = calls[index]
            started = time.perf_counter()
            try:
                response = session.request(call.method, call.url, json=call.body, timeout=timeout_s)
                _ = response.content
                elapsed = time.perf_counter() - started
                ok = response.status_code in expect
                problem = "" if ok else f"{response.status_code} {call.method} {call.url}: {response.text[:200]}"
            except requests.RequestException as exc:
                elapsed, ok, problem = time.perf_counter() - started, False, f"{call.url}: {exc}"
            with lock:
                if ok:
                    outcome.latencies_s.append(elapsed)
                else:
                    outcome.errors.append(problem)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcome.elapsed_s = time.perf_counter() - started
    return outcome
