"""Walk the pages a signed-in person can reach by following links, as a browser would."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from django.test import Client

_HREF = re.compile(r'href="(/[^"#]*)"')
# Not pages to walk: signing out ends the walk, downloads and the admin are not the portal's pages.
SKIP = re.compile(r"^/(static/|media/|admin/|accounts/sign-out)|[?&]format=")


def crawl(client: Client, start: str = "/", limit: int = 60) -> Iterator[tuple[str, Any]]:
    """Yield (path, response) for each distinct page reached from ``start``, breadth first, at most ``limit``."""
    seen = {start}
    queue = [start]
    while queue and len(seen) <= limit + len(queue):
        path = queue.pop(0)
        response = client.get(path)
        yield path, response
        if response.get("Content-Type", "").startswith("text/html"):
            for found in _HREF.findall(response.content.decode()):
                link = found.replace("&amp;", "&")
                if link not in seen and not SKIP.search(link) and len(seen) < limit:
                    seen.add(link)
                    queue.append(link)


def pages(client: Client, limit: int = 60, keep: Callable[[str], bool] = lambda path: True) -> list[str]:
    """The paths of the HTML pages a crawl reaches (answered 200)."""
    return [
        path
        for path, response in crawl(client, limit=limit)
        if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html") and keep(path)
    ]
