"""The database's JSON codec gives exactly what the standard library gives."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import jsoncodec

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
documents = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text() | st.integers(-(10**6), 10**6), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(documents)
def test_a_document_reads_back_as_the_standard_library_reads_it_back(document):
    expected = json.loads(json.dumps(document))
    text = jsoncodec.dumps(document)
    assert jsoncodec.loads(text) == expected
    assert jsoncodec.loads(text.encode()) == expected  # psycopg hands over bytes


@pytest.mark.parametrize("big", [2**64, -(2**63) - 1, 10**30, 12345678901234567890])
def test_integers_beyond_64_bits_stay_exact_integers(big):
    back = jsoncodec.loads(jsoncodec.dumps({"n": big}))["n"]
    assert back == big
    assert isinstance(back, int)


def test_values_the_standard_library_refuses_are_refused():
    @dataclass
    class Point:
        x: int

    for value in (datetime(2026, 12, 7, 2, 0, tzinfo=UTC), Point(1), object()):
        with pytest.raises(TypeError):
            jsoncodec.dumps({"v": value})


def test_text_orjson_refuses_is_read_as_the_standard_library_reads_it():
    assert jsoncodec.loads('{"v": NaN}')["v"] != jsoncodec.loads('{"v": NaN}')["v"]
    with pytest.raises(json.JSONDecodeError):
        jsoncodec.loads("{not json")
