"""Fixtures for the web pages: the app (tests/api's service fixture) and a browser-like client
signed in as a role."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.settings import Settings
from tests.api.conftest import Service, start_service

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, key: str, next_path: str = "/cases") -> str:
    """Sign `client` in with `key`; the page it lands on (HTML)."""
    page = client.get("/", params={"next": next_path})
    assert page.status_code == 200
    response = client.post("/", data={"api_key": key, "csrf_token": csrf(page.text), "next": next_path})
    assert response.status_code == 200, response.text
    return response.text


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path / "data", executor="thread", workers=1, max_upload_bytes=5_000_000)
    yield from start_service(settings)


__all__ = ["Service", "csrf", "sign_in"]
