"""What keeps a private photo library private: the bind rule, the token, the host check, body limits.

* :func:`check_bind` refuses to listen beyond loopback without a token.
* :class:`Guard` (an ASGI middleware, so it runs before any route or body parsing):
  - with a token, every route but ``/api/health`` needs it: ``Authorization: Bearer T`` for programs,
    or the cookie the page gets when it is opened once as ``/?token=T`` (HttpOnly, SameSite=Strict).
    Tokens are compared in constant time (:func:`hmac.compare_digest`);
  - without a token (loopback only), the ``Host`` header must name this machine, so that a web page
    elsewhere cannot reach the library through DNS rebinding;
  - request bodies are limited: ``max_upload`` for image uploads, ``max_body`` for everything else,
    checked on ``Content-Length`` and again while the body streams in (chunked bodies lie about nothing).
There is no CORS middleware: other origins get no access unless a later option adds one on purpose.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from clipaware.errors import UsageError

COOKIE = "clipaware_token"
PUBLIC_PATHS = frozenset({"/api/health"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    """A request body went over its limit while streaming in."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body over the {limit:,}-byte limit")
        self.limit = limit


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to serve a photo library beyond this machine without a token."""
    if not is_loopback(host) and not token:
        raise UsageError(
            f"refusing to listen on {host} without a token: anyone who can reach it could read your photos; "
            "pass --token T (or set CLIPAWARE_TOKEN), or keep the default --host 127.0.0.1"
        )


def upload_path(path: str) -> bool:
    """Routes whose body is an image (the larger limit applies)."""
    return path.startswith("/api/") and path.endswith("/image")


async def send_json(send: Send, status: int, payload: dict[str, Any], headers: Iterable[tuple[bytes, bytes]] = ()):
    body = json.dumps(payload).encode()
    fixed = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": [*fixed, *headers]})
    await send({"type": "http.response.body", "body": body})


class Guard:
    """ASGI middleware: token, host and body-size checks before the app sees a request."""

    def __init__(
        self,
        app: Callable[[Scope, Receive, Send], Awaitable[None]],
        *,
        token: str | None,
        hosts: Iterable[str] = (),
        max_upload: int,
        max_body: int,
    ) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.hosts = {h.lower() for h in hosts} | LOOPBACK_NAMES
        self.max_upload = max_upload
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        path = scope["path"]
        if self.token is None and not self._host_ok(headers.get("host", "")):
            await send_json(send, 421, {"error": "wrong host", "detail": "this server answers for localhost only"})
            return
        if self.token is not None and path not in PUBLIC_PATHS:
            given = self._given_token(headers)
            if given is None and path == "/" and scope["method"] == "GET":
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                if "token" in query:  # the page opened from the printed URL: swap the token for a cookie
                    if self._token_ok(query["token"][0].encode()):
                        await self._set_cookie(send, query["token"][0])
                        return
                    given = b""
            if given is None or not self._token_ok(given):
                detail = "missing token" if given is None else "wrong token"
                await send_json(
                    send,
                    401,
                    {"error": "unauthorized", "detail": f"{detail}: send 'Authorization: Bearer TOKEN'"},
                    [(b"www-authenticate", b"Bearer")],
                )
                return
        limit = self.max_upload if upload_path(path) else self.max_body
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await send_json(send, 413, {"error": "too large", "detail": f"request body over the {limit:,}-byte limit"})
            return
        await self.app(scope, self._limited(receive, limit), send)

    def _host_ok(self, host: str) -> bool:
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        name = name.strip("[]").lower()
        return name in self.hosts or is_loopback(name)

    def _given_token(self, headers: dict[str, str]) -> bytes | None:
        auth = headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip().encode()
        cookie = headers.get("cookie")
        if cookie:
            jar = SimpleCookie()
            try:
                jar.load(cookie)
            except Exception:
                return b""
            if COOKIE in jar:
                return jar[COOKIE].value.encode()
        return None

    def _token_ok(self, given: bytes) -> bool:
        return self.token is not None and hmac.compare_digest(given, self.token)

    async def _set_cookie(self, send: Send, token: str) -> None:
        cookie = f"{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [(b"location", b"/"), (b"set-cookie", cookie.encode()), (b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    def _limited(receive: Receive, limit: int) -> Receive:
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        return counted
