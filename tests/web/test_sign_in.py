"""Signing in to the pages: cookies, CSRF, wrong keys, expiry, return paths, sign-out, audit."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from api.storage.tables import AuditEntry, WebSessionRecord
from api.web.session import COOKIE, local_path
from tests.web.conftest import Service, csrf, sign_in


def test_sign_in_sets_a_strict_http_only_cookie_and_stores_only_its_hash(web: Service) -> None:
    client = web.client
    page = client.get("/")
    response = client.post(
        "/",
        data={"api_key": web.keys["panel"], "csrf_token": csrf(page.text), "next": "/cases"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    session_id = cookie.split(";")[0].split("=", 1)[1]
    with web.database.session() as session:
        stored = list(session.scalars(select(WebSessionRecord)))
    assert len(stored) == 1 and stored[0].role == "panel"
    assert session_id not in stored[0].id_sha256 and len(stored[0].id_sha256) == 64
    assert web.keys["panel"] not in client.get("/cases").text


def test_the_cookie_is_secure_over_https(web: Service) -> None:
    client = web.client
    page = client.get("https://testserver/")
    response = client.post(
        "https://testserver/",
        data={"api_key": web.keys["panel"], "csrf_token": csrf(page.text), "next": "/cases"},
        follow_redirects=False,
    )
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE + "="))
    assert "Secure" in cookie


@pytest.mark.parametrize("key", ["alc_nope_nope", "not a key at all", "{revoked}", "{wrong_secret}"])
def test_a_wrong_key_gives_the_same_error_summary(web: Service, key: str) -> None:
    client = web.client
    if key == "{revoked}":
        key = web.keys["officer"]
        client.delete(f"/v1/keys/{key.split('_')[1]}", headers=web.auth("admin"))
    elif key == "{wrong_secret}":
        key = web.keys["officer"][:-4] + "abcd"
    page = client.get("/")
    response = client.post("/", data={"api_key": key, "csrf_token": csrf(page.text), "next": "/cases"})
    assert response.status_code == 401
    assert "govuk-error-summary" in response.text and 'href="#api_key"' in response.text
    assert "The API key is not valid. Check it and try again" in response.text
    assert key not in response.text and COOKIE not in response.headers.get("set-cookie", "")
    with web.database.session() as session:
        assert not list(session.scalars(select(WebSessionRecord)))
        refused = [e for e in session.scalars(select(AuditEntry)) if e.action == "sign_in_refused"]
    assert refused and all(key not in str(entry.details) for entry in refused)


def test_an_empty_key_names_the_field(web: Service) -> None:
    page = web.client.get("/")
    response = web.client.post("/", data={"api_key": " ", "csrf_token": csrf(page.text)})
    assert response.status_code == 422 and "Enter your API key" in response.text


def test_sign_in_without_its_csrf_token_is_403(web: Service) -> None:
    web.client.get("/")
    response = web.client.post("/", data={"api_key": web.keys["panel"], "csrf_token": "forged"})
    assert response.status_code == 403
    with web.database.session() as session:
        assert not list(session.scalars(select(WebSessionRecord)))


def test_a_missing_session_goes_to_sign_in_and_back_to_the_page_asked_for(web: Service) -> None:
    response = web.client.get("/cases?x=1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/?next=%2Fcases%3Fx%3D1"
    landed = web.client.get(response.headers["location"])
    assert 'name="next" value="/cases?x=1"' in landed.text
    page = web.client.post(
        "/",
        data={"api_key": web.keys["officer"], "csrf_token": csrf(landed.text), "next": "/cases?x=1"},
        follow_redirects=False,
    )
    assert page.headers["location"] == "/cases?x=1"


@pytest.mark.parametrize("asked", ["//evil.example/x", "https://evil.example/", "/\\evil", "cases", "", "/\x07x"])
def test_a_return_path_off_the_site_is_replaced(asked: str) -> None:
    assert local_path(asked) == "/cases"


def test_an_idle_or_old_session_ends(web: Service) -> None:
    sign_in(web.client, web.keys["officer"])
    assert web.client.get("/cases", follow_redirects=False).status_code == 200
    with web.database.session() as session:
        record = session.scalars(select(WebSessionRecord)).one()
        record.last_seen_at -= timedelta(minutes=31)
    assert web.client.get("/cases", follow_redirects=False).status_code == 303
    with web.database.session() as session:
        assert not list(session.scalars(select(WebSessionRecord)))
    sign_in(web.client, web.keys["officer"])
    with web.database.session() as session:
        record = session.scalars(select(WebSessionRecord)).one()
        record.created_at -= timedelta(hours=11)
    assert web.client.get("/cases", follow_redirects=False).status_code == 303


def test_a_revoked_key_ends_its_sessions(web: Service) -> None:
    sign_in(web.client, web.keys["officer"])
    web.client.delete(f"/v1/keys/{web.keys['officer'].split('_')[1]}", headers=web.auth("admin"))
    assert web.client.get("/cases", follow_redirects=False).status_code == 303


def test_sign_out_deletes_the_session_and_needs_the_csrf_token(web: Service) -> None:
    html = sign_in(web.client, web.keys["panel"])
    assert web.client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403
    assert web.client.post("/sign-out", data={}).status_code == 403
    response = web.client.post("/sign-out", data={"csrf_token": csrf(html)}, follow_redirects=False)
    assert response.status_code == 303
    with web.database.session() as session:
        assert not list(session.scalars(select(WebSessionRecord)))
        actions = [(e.action, e.details) for e in session.scalars(select(AuditEntry)) if "sign" in e.action]
    assert actions == [("signed_in", {"role": "panel", "via": "web"}), ("signed_out", {"role": "panel", "via": "web"})]
    assert web.client.get("/cases", follow_redirects=False).status_code == 303


def test_an_admin_may_sign_in_but_reads_no_cases(web: Service) -> None:
    page = web.client.get("/")
    response = web.client.post("/", data={"api_key": web.keys["admin"], "csrf_token": csrf(page.text)})
    assert response.status_code == 403 and "cannot read cases" in response.text
