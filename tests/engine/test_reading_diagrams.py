"""Reading a diagram as its author wrote it: any declared encoding, flows without ids,
plain and manual tasks; and never a DOCTYPE, whatever the encoding."""

from __future__ import annotations

import re

import pytest

from engine.db import unit_of_work
from engine.definitions import get_definition
from engine.errors import DefinitionInvalid
from engine.registry import Registry
from tests.builders import ADMIN, BPMN_DIR, CUSTOMER, engine_system, only_task

LINEAR = (BPMN_DIR / "linear.bpmn").read_text()
DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'


def registry() -> Registry:
    reg = Registry()
    reg.handler("greet")(lambda ctx: {"greeting": "hi"})
    return reg


def encoded(text: str, encoding: str) -> bytes:
    """`text` as a file saved in `encoding`, its declaration naming that encoding."""
    assert text.startswith(DECLARATION)
    declared = text.replace(DECLARATION, f'<?xml version="1.0" encoding="{encoding}"?>', 1)
    return declared.encode(encoding)


LINEAR_ACCENTED = LINEAR.replace('name="Linear test"', 'name="Prüfung für Café"')


@pytest.mark.parametrize("encoding", ["UTF-16", "ISO-8859-1", "UTF-8"])
def test_a_diagram_is_read_in_the_encoding_it_declares_and_stored_as_utf8(config, encoding):
    system = engine_system(config, registry())
    [deployed] = system.engine.deploy([("x.bpmn", encoded(LINEAR_ACCENTED, encoding))], ADMIN)
    with unit_of_work(system.session_factory) as s:
        stored = get_definition(s, "linear", deployed.version)
        assert stored.name == "Prüfung für Café"
        assert stored.xml.startswith(DECLARATION)
        assert 'name="Prüfung für Café"' in stored.xml
    view = system.engine.start("linear", CUSTOMER)
    assert view["active"] == ["ask_name"]


def test_a_utf16_file_with_a_byte_order_mark_and_no_declaration_is_read(config):
    system = engine_system(config, registry())
    text = LINEAR_ACCENTED.removeprefix(DECLARATION)
    [deployed] = system.engine.deploy([("x.bpmn", text.encode("utf-16"))], ADMIN)
    assert deployed.version == 1
    assert system.engine.start("linear", CUSTOMER)["active"] == ["ask_name"]


def test_the_same_diagram_in_another_encoding_makes_no_new_version(config):
    system = engine_system(config, registry())
    [first] = system.engine.deploy([("x.bpmn", encoded(LINEAR, "UTF-8"))], ADMIN)
    [again] = system.engine.deploy([("x.bpmn", encoded(LINEAR, "UTF-16"))], ADMIN)
    assert (again.version, again.changed) == (first.version, False)


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "UTF-16LE", "ISO-8859-1"])
@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        '<!DOCTYPE bpmn:definitions SYSTEM "file:///etc/passwd">',
        "<!DOCTYPE bpmn:definitions>",
    ],
)
def test_a_doctype_is_refused_in_every_encoding(config, encoding, doctype):
    system = engine_system(config, registry())
    text = LINEAR.replace(DECLARATION, DECLARATION + doctype, 1)
    with pytest.raises(DefinitionInvalid) as caught:
        system.engine.deploy([("x.bpmn", encoded(text, encoding))], ADMIN)
    [problem] = caught.value.problems
    assert "DOCTYPE" in problem.message


def test_a_file_whose_bytes_contradict_its_declaration_is_refused_not_a_server_error(config):
    system = engine_system(config, registry())
    text = LINEAR_ACCENTED.replace(DECLARATION, '<?xml version="1.0" encoding="UTF-16"?>')
    with pytest.raises(DefinitionInvalid):
        system.engine.deploy([("x.bpmn", text.encode("utf-8"))], ADMIN)


def test_flows_without_ids_are_followed_so_the_user_task_opens(config):
    system = engine_system(config, registry())
    anonymous = re.sub(r'<bpmn:sequenceFlow id="f\d" ', "<bpmn:sequenceFlow ", LINEAR)
    assert 'id="f1"' not in anonymous
    [deployed] = system.engine.deploy([("x.bpmn", anonymous.encode())], ADMIN)
    view = system.engine.start("linear", CUSTOMER)
    assert view["active"] == ["ask_name"]
    task = only_task(system, CUSTOMER, instance_id=view["id"])
    after, _, _ = system.engine.complete_task(task["id"], {"name": "Ann"}, CUSTOMER)
    assert after["active"] == ["review"]
    assert deployed.version == 1


@pytest.mark.parametrize("tag", ["task", "manualTask"])
def test_a_plain_or_manual_task_passes_the_token_on(config, tag):
    system = engine_system(config, registry())
    xml = LINEAR.replace(
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="ask_name" />',
        f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="note" />'
        f'<bpmn:{tag} id="note" name="Make a note" />'
        f'<bpmn:sequenceFlow id="f1b" sourceRef="note" targetRef="ask_name" />',
    ).replace(
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef>",
        "<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>note</bpmn:flowNodeRef>",
    )
    system.engine.deploy([("x.bpmn", xml.encode())], ADMIN)
    view = system.engine.start("linear", CUSTOMER)
    assert view["active"] == ["ask_name"]


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_either_way_round(config, encoding):
    system = engine_system(config, registry())
    text = LINEAR_ACCENTED.replace(DECLARATION, '<?xml version="1.0" encoding="UTF-16"?>')
    system.engine.deploy([("x.bpmn", text.encode(encoding))], ADMIN)
    with unit_of_work(system.session_factory) as s:
        assert get_definition(s, "linear", None).name == "Prüfung für Café"
    assert system.engine.start("linear", CUSTOMER)["active"] == ["ask_name"]
