"""Oversized bodies, deeply nested JSON, XML bombs and external entities, sent to the
API: each is refused with a 4xx problem, quickly, and changes nothing."""

from __future__ import annotations

import io
import time

import pytest

from tests.hostile.builders import assert_problem, bearer
from tests.journey.builders_tokens import pskc_file

pytestmark = pytest.mark.hostile

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}>&lol9;</{root}>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<{root}>&xxe;</{root}>"""
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd">
<{root}/>"""
PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd"> %remote;]>
<{root}/>"""
QUADRATIC = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "{a}">]><{root}>{refs}</{root}>'.format(
    a="a" * 50_000, refs="&a;" * 30_000, root="{root}"
)
XINCLUDE = """<?xml version="1.0"?>
<{root} xmlns:xi="http://www.w3.org/2001/XInclude">
<xi:include href="file:///etc/passwd" parse="text"/></{root}>"""

BPMN_ROOT = 'bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
PSKC_ROOT = 'KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"'
HOSTILE_XML = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "external DTD": EXTERNAL_DTD,
    "parameter entity": PARAMETER_ENTITY,
    "quadratic blowup": QUADRATIC,
    "xinclude": XINCLUDE,
}


def xml_as(template: str, root: str, encoding: str = "utf-8") -> bytes:
    text = template.replace("<{root}", "<" + root).replace(
        "</{root}>", "</" + root.split()[0] + ">"
    )
    if encoding != "utf-8":
        text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    return text.encode(encoding)


def timed(call):
    began = time.monotonic()
    response = call()
    assert time.monotonic() - began < 5, "a hostile document must be refused quickly"
    return response


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_a_hostile_bpmn_upload_is_refused_with_a_problem(app, kind, encoding):
    data = xml_as(HOSTILE_XML[kind], BPMN_ROOT, encoding)
    client, analyst = app.test_client(), bearer(app, "root")
    r = timed(
        lambda: client.post(
            "/api/v1/process-definitions",
            data=data,
            content_type="application/xml",
            headers=analyst,
        )
    )
    body = assert_problem(r, 400, 413, 422)
    assert "root:" not in str(body)  # /etc/passwd never comes back


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
@pytest.mark.parametrize("kind", sorted(HOSTILE_XML))
def test_a_hostile_pskc_upload_is_refused_with_a_problem(app, kind, encoding):
    data = xml_as(HOSTILE_XML[kind], PSKC_ROOT, encoding)
    client = app.test_client()
    r = timed(
        lambda: client.post(
            "/api/v1/tokens/import",
            data={"file": (io.BytesIO(data), "bomb.pskc")},
            content_type="multipart/form-data",
            headers=bearer(app, "root"),
        )
    )
    body = assert_problem(r, 400, 413, 422)
    assert "root:" not in str(body)


def test_a_pskc_upload_in_utf16_with_a_doctype_is_refused_too(app):
    """The DOCTYPE screen must not be a byte search that another encoding slips past."""
    document = (
        pskc_file(["HX000002"])
        .decode()
        .replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE KeyContainer [<!ENTITY s "x">]>',
        )
    )
    r = app.test_client().post(
        "/api/v1/tokens/import",
        data={"file": (io.BytesIO(document.encode("utf-16")), "t.pskc")},
        content_type="multipart/form-data",
        headers=bearer(app, "root"),
    )
    assert_problem(r, 422)


@pytest.mark.parametrize(
    ("path", "who", "status"),
    [
        ("/api/v1/auth/token", None, 413),
        ("/api/v1/process-instances", "alice", 413),
        ("/api/v1/messages", "root", 413),
        ("/api/v1/otp/verify", None, 401),  # no application key: refused before reading
    ],
)
def test_an_oversized_json_body_is_refused_before_it_is_read(app, path, who, status):
    headers = bearer(app, who) if who else {}
    big = b'{"process": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    r = app.test_client().post(path, data=big, content_type="application/json", headers=headers)
    assert_problem(r, status)


def test_an_oversized_upload_is_refused(app):
    big = b"<" + b"a" * (3 * 1024 * 1024)
    r = app.test_client().post(
        "/api/v1/process-definitions",
        data=big,
        content_type="application/xml",
        headers=bearer(app, "root"),
    )
    assert_problem(r, 413)


@pytest.mark.parametrize("depth", [100, 990, 5_000, 200_000])
@pytest.mark.parametrize(
    ("path", "who", "wrap"),
    [
        ("/api/v1/auth/token", None, lambda nested: f'{{"username": {nested}, "password": "x"}}'),
        (
            "/api/v1/process-instances",
            "alice",
            lambda n: f'{{"process": "hardware_token", "data": {n}}}',
        ),
        (
            "/api/v1/process-instances",
            "root",
            lambda n: f'{{"process": "hardware_token", "data": {{"x": {n}}}}}',
        ),
        (
            "/api/v1/messages",
            "root",
            lambda n: f'{{"name": "m", "correlation_key": "k", "data": {{"x": {n}}}}}',
        ),
    ],
)
def test_deeply_nested_json_is_answered_without_a_server_error(app, depth, path, who, wrap):
    nested = '{"a": ' * depth + "1" + "}" * depth
    headers = bearer(app, who) if who else {}
    r = timed(
        lambda: app.test_client().post(
            path, data=wrap(nested), content_type="application/json", headers=headers
        )
    )
    assert r.status_code < 500, (r.status_code, r.data[:300])
    if r.status_code >= 400:
        assert r.content_type == "application/problem+json"


def test_a_task_completion_with_nested_or_typed_junk_gets_field_errors(app):
    client, customer = app.test_client(), bearer(app, "alice")
    started = client.post(
        "/api/v1/process-instances", json={"process": "hardware_token"}, headers=customer
    )
    assert started.status_code == 201
    [task] = client.get(f"/api/v1/tasks?instance_id={started.json['id']}", headers=customer).json
    for junk in (
        {"product": {"a": [1, {"b": None}]}},
        {"product": 10**400},
        {"product": "\x00"},
        {"x" * 5000: 1},
    ):
        r = client.post(
            f"/api/v1/tasks/{task['id']}/complete", json={"data": junk}, headers=customer
        )
        assert_problem(r, 422)


@pytest.mark.parametrize("path", ["/api/v1/incidents/{n}/retry", "/api/v1/jobs/{n}/execute"])
def test_an_id_beyond_the_databases_integer_range_is_a_client_error(app, path):
    r = app.test_client().post(path.format(n=10**22), headers=bearer(app, "root"))
    assert_problem(r, 400, 404)


def test_a_pskc_upload_with_both_a_key_and_a_password_is_refused_as_invalid_input(app):
    r = app.test_client().post(
        "/api/v1/tokens/import",
        data={"file": (io.BytesIO(b"<x/>"), "t.pskc"), "psk": "733913", "password": "pw"},
        content_type="multipart/form-data",
        headers=bearer(app, "root"),
    )
    assert_problem(r, 400, 422)
