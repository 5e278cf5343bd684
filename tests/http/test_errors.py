from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from gateway.core.metrics import Metrics
from gateway.errors import BodyTooLarge, QueryTooLarge, RateLimited, ShuttingDown
from gateway.http.errors import error_page, http_error_response
from gateway.http.middleware import gateway_middleware


def test_rate_limit_answer_has_retry_after_and_a_rawman_body() -> None:
    response = http_error_response(RateLimited(3))
    assert response.status == 429
    assert response.headers["Retry-After"] == "3"
    assert response.text == "Response: Error\r\nMessage: Too many requests\r\n\r\n"


def test_shutting_down_is_a_503_with_retry_after_and_a_rawman_body() -> None:
    response = http_error_response(ShuttingDown())
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"
    assert response.text == "Response: Error\r\nMessage: Gateway is shutting down\r\n\r\n"


def test_statuses_and_escaping() -> None:
    assert http_error_response(QueryTooLarge()).status == 414
    assert http_error_response(BodyTooLarge()).status == 413
    page = error_page(404, "Not <Found>", "x & y")
    assert page.text is not None
    assert "Not &lt;Found&gt;" in page.text
    assert "x &amp; y" in page.text


async def test_middleware_turns_errors_into_pages(
    aiohttp_client: object,
) -> None:
    async def too_big(request: web.Request) -> web.Response:
        raise BodyTooLarge

    app = web.Application(middlewares=[gateway_middleware(Metrics(), ())])
    app.router.add_get("/big", too_big)
    client: TestClient[web.Request, web.Application] = await aiohttp_client(app)  # type: ignore[operator]
    assert (await client.get("/big")).status == 413
    missing = await client.get("/nothing")
    assert missing.status == 404
    assert "Not Found" in await missing.text()
