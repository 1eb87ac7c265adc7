"""parse_datetime's fast paths give exactly what the plain implementation gives."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from cloudkit.parsing import parse_datetime


def reference(value: object) -> dt.datetime | None:
    """The straightforward implementation the fast paths must match."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            when = dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def same(a: dt.datetime | None, b: dt.datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b and a.utcoffset() == b.utcoffset() and a.tzinfo is not None and b.tzinfo is not None


SUFFIXES = ["", "Z", "z", "+00:00", "-05:30", "+02:00", " ", "Zjunk"]
TIMESPECS = ["hours", "minutes", "seconds", "milliseconds", "microseconds"]


@settings(max_examples=400, deadline=None)
@given(when=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)),
       sep=st.sampled_from(["T", " ", "t"]), spec=st.sampled_from(TIMESPECS),
       suffix=st.sampled_from(SUFFIXES), pad=st.sampled_from(["", " ", "\t"]))
def test_iso_texts_parse_like_the_reference(when: dt.datetime, sep: str, spec: str, suffix: str, pad: str) -> None:
    text = pad + when.isoformat(sep=sep, timespec=spec) + suffix + pad
    got = parse_datetime(text)
    assert same(got, reference(text)), text


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)))
def test_dates_without_time_are_midnight_utc(day: dt.date) -> None:
    for text in (day.isoformat(), day.strftime("%Y%m%d"), f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"):
        assert same(parse_datetime(text), reference(text)), text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_like_the_reference(text: str) -> None:
    assert same(parse_datetime(text), reference(text))


def test_known_values() -> None:
    utc = dt.UTC
    assert parse_datetime("2024-09-02T10:15:31Z") == dt.datetime(2024, 9, 2, 10, 15, 31, tzinfo=utc)
    assert parse_datetime("2024-09-02T10:15:31").tzinfo is utc
    assert parse_datetime("2024-09-02 10:15:31") == dt.datetime(2024, 9, 2, 10, 15, 31, tzinfo=utc)
    assert parse_datetime("2024-09-02") == dt.datetime(2024, 9, 2, tzinfo=utc)
    assert parse_datetime("2024-09-02T10:15:31+02:00").utcoffset() == dt.timedelta(hours=2)
    assert parse_datetime(" 2024-09-02T10:15:31z ") == dt.datetime(2024, 9, 2, 10, 15, 31, tzinfo=utc)
    for bad in ("", "soon", None, 17, "2024-13-01T00:00:00"):
        assert parse_datetime(bad) is None


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="0123456789-:.+ TtZz,W", min_size=19, max_size=19))
def test_odd_nineteen_character_texts_parse_like_the_reference(text: str) -> None:
    # 19 characters is the naive "YYYY-MM-DDTHH:MM:SS" the one-parse fast path is for; these are
    # odd texts of that length (offsets, "Z", fractions, week dates, junk) that must not take it wrongly.
    assert same(parse_datetime(text), reference(text)), text


def test_nineteen_character_forms_parse_like_the_reference() -> None:
    forms = ["2024-03-11T09:15:42", "2024-03-11 09:15:42", "2024-03-11t09:15:42", "2024-03-11T09:15+01",
             "2024-03-11T09:15:4Z", "2024-03-11T09+01:00", "2024-03-11T091542+1", "2024-03-11T09:15:4+",
             "2024-03-11T09:15:42"[:18] + "Z", "20240311T091542.123", "2024-W11-1T09:15:42"[:19],
             "2024-03-11T24:00:00", "2024-02-30T09:15:42", "  2024-03-11T09:15 ", "2024-03-11T09:15:4-"]
    for text in forms:
        assert len(text) == 19, text
        assert same(parse_datetime(text), reference(text)), text
    assert parse_datetime("2024-03-11T09:15:42") == dt.datetime(2024, 3, 11, 9, 15, 42, tzinfo=dt.UTC)
