"""The helpers every driver shares from the base: ids from provider objects, generated
passwords, secrets scrubbed from errors."""

from __future__ import annotations

import string

import pytest

from cloudkit.errors import MalformedResponseError, OutcomeUnknownError, ProviderError, ValidationError
from cloudkit.parsing import req_id
from cloudkit.redact import REDACTED, redact_exception
from cloudkit.secrets_gen import generate_password


@pytest.mark.parametrize(("value", "expected"), [(7, "7"), ("abc", "abc"), ("  42 ", "42")])
def test_req_id_gives_text(value: object, expected: str) -> None:
    assert req_id({"id": value}, "id", "thing") == expected


@pytest.mark.parametrize(("obj", "fragment"), [
    ({}, "missing field 'id'"), ({"id": None}, "has type NoneType"), ({"id": True}, "has type bool"),
    ({"id": 1.5}, "has type float"), ({"id": "  "}, "field 'id' is empty")])
def test_req_id_refuses_what_is_not_an_id(obj: dict[str, object], fragment: str) -> None:
    with pytest.raises(MalformedResponseError, match=fragment) as info:
        req_id(obj, "id", "thing")
    assert str(info.value).startswith("thing: ")


@pytest.mark.parametrize("length", [3, 16, 24])
def test_generated_passwords_of_letters_and_digits(length: int) -> None:
    seen = {generate_password(length) for _ in range(40)}
    for password in seen:
        assert len(password) == length
        assert set(password) <= set(string.ascii_letters + string.digits)
        assert any(c.islower() for c in password) and any(c.isupper() for c in password)
        assert any(c.isdigit() for c in password)
    assert len(seen) > 1  # random, not fixed


def test_generated_passwords_with_symbols_hold_one() -> None:
    for _ in range(40):
        password = generate_password(12, symbols="-_.")
        assert len(password) == 12 and any(c in "-_." for c in password)
        assert set(password) <= set(string.ascii_letters + string.digits + "-_.")


def test_a_password_too_short_for_its_rules_is_refused() -> None:
    with pytest.raises(ValidationError):
        generate_password(2)
    with pytest.raises(ValidationError):
        generate_password(3, symbols="!")


def test_redact_exception_scrubs_every_text_of_an_error() -> None:
    secret = "s3cret-value-9"
    exc = ProviderError(f"bad key {secret}", 401, body=f'{{"key": "{secret}"}}')
    assert redact_exception(exc, [None, "", secret]) is exc
    for text in (exc.message, exc.body, str(exc), repr(exc), *map(str, exc.args)):
        assert secret not in text
    assert REDACTED in exc.message and REDACTED in exc.body
    hinted = OutcomeUnknownError("create sent", hint=f"look for a key {secret}")
    redact_exception(hinted, [secret])
    assert hinted.hint is not None and secret not in hinted.hint and secret not in str(hinted)


def test_redact_exception_leaves_short_values_alone() -> None:
    exc = ValueError("id abc failed")
    redact_exception(exc, ["abc"])  # shorter than 4 characters: would redact too much
    assert exc.args == ("id abc failed",)
