"""``/docs`` works without the internet (issue 10, item 9): the Swagger UI page loads its
script, style and icon from the server itself, and the bundled files carry their licence."""

from __future__ import annotations

import re

import httpx


def test_docs_page_loads_everything_from_the_server(server: str) -> None:
    page = httpx.get(f"{server}/docs", timeout=30)
    assert page.status_code == 200 and "swagger" in page.text.lower()
    urls = re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', page.text)
    assert urls and all(u.startswith("/") for u in urls), urls  # no CDN, no other host
    assert "cdn" not in page.text.lower()
    for url in urls:
        r = httpx.get(f"{server}{url}", timeout=30)  # no key needed, like /docs itself
        assert r.status_code == 200 and len(r.content) > 100, url
    spec = re.search(r"url:\s*'([^']+)'", page.text)
    assert spec and httpx.get(f"{server}{spec.group(1)}", timeout=30).json()["openapi"]


def test_bundled_swagger_ui_has_its_licence(server: str) -> None:
    licence = httpx.get(f"{server}/docs/assets/LICENSE", timeout=30)
    assert licence.status_code == 200 and "Apache License" in licence.text
    assert httpx.get(f"{server}/docs/assets/..%2F..%2FMANIFEST.json", timeout=30).status_code == 404
