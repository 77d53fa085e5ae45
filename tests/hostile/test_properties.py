"""Property tests: form validation, OTP code parsing and PSKC reading take anything a
client can send and answer with errors, never with an exception."""

from __future__ import annotations

import contextlib
import re
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.tokens.otp import normalize_code
from domain.tokens.pskc_import import PskcImportError, read_pskc
from engine.forms import KNOWN_TYPES, Field, validate
from tests.journey.builders_tokens import pskc_file

pytestmark = pytest.mark.hostile
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
CONSTRAINTS = st.lists(
    st.sampled_from(
        [
            ("required", None),
            ("minlength", "2"),
            ("maxlength", "8"),
            ("min", "0"),
            ("max", "99"),
            ("pattern", "[A-Z]{2}-[0-9]+"),
            ("readonly", None),
        ]
    ),
    max_size=4,
    unique=True,
)
fields = st.builds(
    Field,
    id=st.sampled_from(["a", "b", "card_number", "dob"]),
    label=st.just("Label"),
    type=st.sampled_from(KNOWN_TYPES),
    required=st.booleans(),
    default=st.none(),
    help=st.none(),
    sensitive=st.booleans(),
    options=st.just((("x", "X"), ("y", "Y"))),
    options_variable=st.sampled_from([None, "choices"]),
    label_variable=st.none(),
    constraints=CONSTRAINTS.map(tuple),
)


@FAST
@given(
    form=st.lists(fields, max_size=4, unique_by=lambda f: f.id),
    submitted=st.dictionaries(
        st.text(max_size=12) | st.sampled_from(["a", "b", "dob"]), json_values
    ),
    data=st.dictionaries(st.sampled_from(["choices", "other"]), json_values),
)
def test_form_validation_answers_any_submission_with_values_or_field_errors(form, submitted, data):
    values, secrets, errors = validate(form, submitted, data)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in errors.items())
    assert not set(values) & set(secrets)
    for f in form:  # a field either has its value or says what is wrong with it
        if not f.has_constraint("readonly"):
            assert (f.id in values) or (f.id in secrets) or (f.id in errors)


@FAST
@given(st.text())
def test_any_text_is_either_a_code_of_ascii_digits_or_not_a_code(text):
    code = normalize_code(text)
    assert code is None or (code.isascii() and code.isdigit())


@FAST
@given(
    st.lists(st.sampled_from(string.digits), min_size=1, max_size=10),
    st.sampled_from(["", " ", "\u3000"]),
)
def test_a_code_typed_with_grouping_spaces_or_full_width_digits_reads_as_its_digits(digits, gap):
    typed = gap.join(digits)
    assert normalize_code(typed) == "".join(digits)
    full_width = "".join(chr(0xFF10 + int(d)) for d in digits)
    assert normalize_code(full_width) == "".join(digits)


@FAST
@given(st.binary(max_size=2000))
def test_any_bytes_are_read_as_pskc_or_refused_with_a_pskc_import_error(data):
    with contextlib.suppress(PskcImportError):
        read_pskc(data)


VALID = pskc_file(["HX000001"]).decode()
SECRET = re.search(r"<PlainValue>([^<]{8,})</PlainValue>", VALID).group(1)
MUTABLE = ["HX000001", "30", "6", "urn:ietf:params:xml:ns:keyprov:pskc:totp", "Test", SECRET]


@FAST
@given(
    target=st.sampled_from(MUTABLE),
    replacement=st.text(max_size=40)
    | st.sampled_from(["-1", "0", "99999999999", "", "AAAA", "10"]),
)
def test_a_pskc_document_with_any_field_mangled_is_read_or_refused_cleanly(target, replacement):
    document = VALID.replace(target, replacement.replace("&", "&amp;").replace("<", "&lt;"), 1)
    with contextlib.suppress(PskcImportError):
        read_pskc(document.encode())
