"""The error hierarchy: the Contracts' texts and statuses, and its shape."""

from __future__ import annotations

import inspect

import pytest

from gateway import errors
from gateway.errors import (
    AmiLevelError,
    GatewayError,
    HttpLevelError,
    InvalidField,
    JsonHttpError,
    RateLimited,
    ShuttingDown,
)

CONTRACT_MESSAGES = {
    errors.PermissionDenied: "Permission denied",
    errors.InvalidCharacter: "Invalid character in request",
    errors.RequestTooLarge: "Request too large for AMI",
    errors.NotConnected: "Asterisk is not connected",
    errors.ActionTimeout: "Timeout waiting for Asterisk",
    errors.TooManySessions: "Too many sessions",
    errors.NeedsSession: "waitevent needs a session",
}

CONTRACT_STATUSES = {
    errors.BadRequest: 400,
    errors.BodyTooLarge: 413,
    errors.QueryTooLarge: 414,
    errors.RateLimited: 429,
    errors.ShuttingDown: 503,
}


def all_errors() -> list[type[GatewayError]]:
    return [
        cls
        for _, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, GatewayError)
    ]


@pytest.mark.parametrize(("cls", "text"), CONTRACT_MESSAGES.items())
def test_ami_level_messages_are_the_contracts(cls: type[AmiLevelError], text: str) -> None:
    assert issubclass(cls, AmiLevelError)
    error = cls()
    assert error.message == text
    assert str(error) == text


@pytest.mark.parametrize(("cls", "status"), CONTRACT_STATUSES.items())
def test_http_level_statuses_are_the_contracts(cls: type[HttpLevelError], status: int) -> None:
    assert cls.status == status


def test_every_error_is_one_of_the_five_branches() -> None:
    branches = (
        AmiLevelError,
        HttpLevelError,
        errors.ProtocolError,
        errors.ConfigError,
        errors.StartupError,
    )
    leaves = [cls for cls in all_errors() if cls is not GatewayError]
    assert len(leaves) > 20
    for cls in leaves:
        assert issubclass(cls, branches), cls
        assert not (issubclass(cls, AmiLevelError) and issubclass(cls, HttpLevelError))


def test_every_http_error_has_a_real_status_and_message() -> None:
    for cls in all_errors():
        if issubclass(cls, HttpLevelError) and cls not in (HttpLevelError, JsonHttpError):
            assert 400 <= cls.status <= 599, cls
            assert cls.message, cls
            assert cls.message != GatewayError.message, cls


def test_a_message_can_be_given_and_overrides_the_class_text() -> None:
    error = AmiLevelError("Invalid/unknown command: Foo")
    assert error.message == "Invalid/unknown command: Foo"
    assert errors.PermissionDenied.message == "Permission denied"  # the class is untouched


def test_retry_after_rides_on_rate_and_drain_errors() -> None:
    assert RateLimited(7).retry_after == 7
    assert RateLimited().retry_after == 1
    assert ShuttingDown.retry_after == 1


def test_json_errors_name_their_field() -> None:
    error = InvalidField("limit must be a positive integer", field="limit")
    assert isinstance(error, JsonHttpError)
    assert (error.status, error.field, error.message) == (
        400,
        "limit",
        "limit must be a positive integer",
    )
    assert errors.NotAuthenticated().field is None
