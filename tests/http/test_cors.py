"""CORS and the browser-facing cookie settings, unit and end to end."""

from __future__ import annotations

import pytest
from aiohttp import web

from gateway.config import parse_config
from gateway.errors import ConfigError
from gateway.http.cors import ALLOW_HEADERS, CorsPolicy, vary_origin
from gateway.simulator import Simulator
from tests.support.harness import MakeClient, start

PAGE = "http://127.0.0.1:8000"
PREFLIGHT = {"Origin": PAGE, "Access-Control-Request-Method": "POST"}


def test_only_configured_origins_exactly() -> None:
    policy = CorsPolicy.of(["https://CRM.example.com"], credentials=True, max_age=60)
    assert policy.allow_origin("https://crm.example.com") == "https://crm.example.com"
    assert policy.allow_origin("https://crm.example.com:8443") is None
    assert policy.allow_origin("http://crm.example.com") is None
    assert policy.allow_origin("https://crm.example.com.evil.test") is None
    assert policy.allow_origin("null") is None
    assert policy.allow_origin(None) is None
    assert policy.response_headers("https://crm.example.com") == {
        "Access-Control-Allow-Origin": "https://crm.example.com",
        "Access-Control-Allow-Credentials": "true",
    }


def test_star_allows_any_origin_without_credentials() -> None:
    policy = CorsPolicy.of(["*"], credentials=False, max_age=60)
    assert policy.response_headers("https://any.test") == {"Access-Control-Allow-Origin": "*"}
    assert not CorsPolicy().enabled


def test_preflight_checks_method_and_headers() -> None:
    policy = CorsPolicy.of([PAGE], credentials=False, max_age=60)
    ok = policy.preflight_headers(PAGE, "post", "Authorization, Content-Type")
    assert ok is not None
    assert ok["Access-Control-Allow-Methods"] == "GET, HEAD, POST"
    assert ok["Access-Control-Allow-Headers"] == ", ".join(ALLOW_HEADERS)
    assert ok["Access-Control-Max-Age"] == "60"
    assert policy.preflight_headers(PAGE, "DELETE", None) is None
    assert policy.preflight_headers(PAGE, "GET", "X-Secret-Thing") is None
    assert policy.preflight_headers("http://other.test", "GET", None) is None


async def test_preflight_and_answers_end_to_end(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    http = {"cors_origins": [PAGE], "cors_credentials": True, "cors_max_age": 120}
    client = await start(simulator, aiohttp_client, http=http)
    headers = {**PREFLIGHT, "Access-Control-Request-Headers": "authorization"}
    response = await client.options("/asterisk/json", headers=headers)
    assert response.status == 204
    assert response.headers["Access-Control-Allow-Origin"] == PAGE
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"].title()
    assert response.headers["Access-Control-Max-Age"] == "120"
    assert response.headers["Vary"] == "Origin"
    refused = await client.options(
        "/asterisk/json", headers={**PREFLIGHT, "Origin": "http://evil.test"}
    )
    assert refused.status == 403
    assert "Access-Control-Allow-Origin" not in refused.headers
    answer = await client.get("/asterisk/rawman?action=ping", headers={"Origin": PAGE})
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE
    assert answer.headers["Vary"] == "Origin"
    missing = await client.get("/nowhere", headers={"Origin": PAGE})
    assert missing.status == 404
    assert missing.headers["Access-Control-Allow-Origin"] == PAGE
    other = await client.get("/asterisk/rawman?action=ping", headers={"Origin": "http://x.test"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.headers["Vary"] == "Origin"


async def test_without_cors_config_nothing_changes(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    client = await start(simulator, aiohttp_client)
    response = await client.options("/asterisk/rawman", headers=PREFLIGHT)
    assert response.status == 501  # as Asterisk answers OPTIONS
    answer = await client.get("/asterisk/rawman?action=ping", headers={"Origin": PAGE})
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert "Vary" not in answer.headers


async def test_cookie_attributes_from_the_config(
    simulator: Simulator, aiohttp_client: MakeClient
) -> None:
    http = {
        "cookie_path": "/asterisk",
        "cookie_samesite": "None",
        "cookie_secure": True,
        "cookie_httponly": True,
    }
    client = await start(simulator, aiohttp_client, http=http)
    response = await client.get("/asterisk/rawman?action=ping")
    cookie = response.headers["Set-Cookie"]
    assert cookie.endswith("; Path=/asterisk; SameSite=None; Secure; HttpOnly")
    assert cookie.startswith('mansession_id="')


def test_max_age_is_checked_by_the_config() -> None:
    data = {"ami": {"username": "gw", "secret": "pw"}, "http": {"cors_max_age": -1}}
    with pytest.raises(ConfigError, match=r"\[http\] cors_max_age"):
        parse_config(data, {})
    assert parse_config({"ami": data["ami"]}, {}).http.cors_max_age == 600


def test_vary_keeps_what_is_there_and_adds_origin_once() -> None:
    response = web.Response(headers={"Vary": "Accept-Encoding"})
    vary_origin(response)
    vary_origin(response)
    assert response.headers["Vary"] == "Accept-Encoding, Origin"
