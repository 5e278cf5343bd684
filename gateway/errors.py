"""The one error hierarchy of the gateway.

Every error the gateway raises on purpose is a ``GatewayError``.  The HTTP
layer translates them to responses in one place (``gateway.http.errors``):

* ``AmiLevelError``: HTTP 200 with ``Response: Error`` and ``Message: <text>``,
  exactly as Asterisk reports its own failures.  The texts are a contract
  (docs/design.md, Contracts).
* ``HttpLevelError``: a real HTTP status (400, 408, 413, 414, 429, 503);
  ``JsonHttpError`` ones carry a JSON body naming the bad field.
* ``ProtocolError``: Asterisk sent something the codec cannot accept.
* ``ConfigError``: a bad configuration file, reported at start-up.
* ``StartupError``: a port that cannot be listened on, reported at start-up.
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error raised on purpose by the gateway."""

    message: str = "Gateway error"

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class AmiLevelError(GatewayError):
    """Answered as HTTP 200, ``Response: Error``, ``Message: <message>``."""


class PermissionDenied(AmiLevelError):
    message = "Permission denied"


class InvalidCharacter(AmiLevelError):
    message = "Invalid character in request"


class RequestTooLarge(AmiLevelError):
    message = "Request too large for AMI"


class NotConnected(AmiLevelError):
    message = "Asterisk is not connected"


class ActionTimeout(AmiLevelError):
    message = "Timeout waiting for Asterisk"


class TooManySessions(AmiLevelError):
    message = "Too many sessions"


class NeedsSession(AmiLevelError):
    message = "waitevent needs a session"


class MissingAction(AmiLevelError):
    message = "Missing action in request"


class AuthenticationFailed(AmiLevelError):
    message = "Authentication failed"


class CredentialsMismatch(AmiLevelError):
    message = "Authorization names another user than the session"


class HttpLevelError(GatewayError):
    """Answered with a real HTTP status code."""

    status: int = 400
    retry_after: int | None = None


class BadRequest(HttpLevelError):
    status = 400
    message = "Bad request"


class BadCredentials(BadRequest):
    message = "Malformed Basic credentials"


class BodyIncomplete(BadRequest):
    """The body did not end well: the client hung up in its middle, or its
    chunked framing broke.  Nothing of it is acted on."""

    message = "Request body incomplete"


class BodyTooLarge(HttpLevelError):
    status = 413
    message = "Request body too large"


class RequestTimeout(HttpLevelError):
    """The body did not arrive within ``[limits] body_timeout``; the
    connection closes after this answer."""

    status = 408
    message = "Request body not received in time"


class QueryTooLarge(HttpLevelError):
    status = 414
    message = "Request query too large"


class RateLimited(HttpLevelError):
    status = 429
    message = "Too many requests"

    def __init__(self, retry_after: int = 1) -> None:
        super().__init__()
        self.retry_after = retry_after


class ShuttingDown(HttpLevelError):
    """A login on a draining instance: 503, so nginx tries the next one."""

    status = 503
    message = "Gateway is shutting down"
    retry_after = 1


class DigestUriMismatch(BadRequest):
    """RFC 2617 section 3.2.2.5: the digest's uri must be the request's own."""

    message = "Digest uri does not match the request"


class JsonHttpError(HttpLevelError):
    """Answered as JSON, ``{"error": message, "field": field}`` (the history service)."""

    field: str | None = None

    def __init__(self, message: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidField(JsonHttpError):
    """A bad request parameter; ``field`` names it."""

    status = 400
    message = "Invalid parameter"


class NotAuthenticated(JsonHttpError):
    status = 401
    message = "Authentication required"


class Forbidden(JsonHttpError):
    status = 403
    message = "Permission denied"


class TooManyStreams(JsonHttpError):
    """A push stream over its session's or its address's cap (``[push]``)."""

    status = 429
    message = "Too many streams"


class StreamsUnavailable(JsonHttpError):
    """A push stream the instance cannot take: ``[push] max_streams``, or no
    room for its session (``Too many sessions``)."""

    status = 503
    message = "Too many streams on this instance"


class NoRecording(JsonHttpError):
    status = 404
    message = "no recording for this call"


class HistoryUnavailable(JsonHttpError):
    status = 503
    message = "Call history is unavailable"


class ProtocolError(GatewayError):
    """Asterisk's byte stream broke a rule or a limit of the codec."""

    message = "AMI protocol error"


class ConfigError(GatewayError):
    """The configuration is invalid; the message names the key."""

    message = "Invalid configuration"


class StartupError(GatewayError):
    """The gateway cannot start for a reason outside its configuration file
    (a port another program holds); reported at start-up as one line."""

    message = "Cannot start"
