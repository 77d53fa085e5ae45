"""What cannot run here is refused at deploy, by element id, saying what to use instead."""

from __future__ import annotations

import pytest

from tests.engine.builders import form, problems

INSTEAD = 'use camunda:type="external" with a camunda:topic whose Python handler does the work'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            '<bpmn:serviceTask id="it" camunda:class="org.example.Charge" />',
            f"it: camunda:class 'org.example.Charge' is Java, which cannot run here: {INSTEAD}",
        ),
        (
            '<bpmn:serviceTask id="it" camunda:delegateExpression="${chargeBean}" />',
            "it: camunda:delegateExpression '${chargeBean}' names a Java bean, which cannot "
            f"run here: {INSTEAD}",
        ),
        (
            '<bpmn:serviceTask id="it" camunda:expression="${charge.run(execution)}" />',
            "it: camunda:expression '${charge.run(execution)}' on a serviceTask calls Java, "
            f"which cannot run here: {INSTEAD}",
        ),
        (
            '<bpmn:sendTask id="it" camunda:class="org.example.Send" />',
            f"it: camunda:class 'org.example.Send' is Java, which cannot run here: {INSTEAD}",
        ),
        (
            """<bpmn:serviceTask id="it"><bpmn:extensionElements><camunda:connector>
              <camunda:connectorId>http-connector</camunda:connectorId>
            </camunda:connector></bpmn:extensionElements></bpmn:serviceTask>""",
            "it: connector 'http-connector' (Camunda Connect) cannot run here: "
            f"{INSTEAD}, calling the service from Python",
        ),
        (
            '<bpmn:scriptTask id="it" scriptFormat="javascript">'
            "<bpmn:script>var x = 1;</bpmn:script></bpmn:scriptTask>",
            "it: script format 'javascript' cannot run here: write the script in Python, "
            f"or {INSTEAD}",
        ),
        (
            '<bpmn:scriptTask id="it" scriptFormat="groovy">'
            "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>",
            "it: script format 'groovy' cannot run here",
        ),
        (
            """<bpmn:userTask id="it"><bpmn:extensionElements>
              <camunda:taskListener class="org.example.Notify" event="create" />
            </bpmn:extensionElements></bpmn:userTask>""",
            "it: taskListener (create) calls Java, which cannot run here",
        ),
        (
            '<bpmn:userTask id="it" camunda:dueDate="${dateTime().withDayOfMonth(1)}" />',
            "it: camunda:dueDate: ${dateTime().withDayOfMonth(1)}: method calls such as"
            " .withDayOfMonth(...) are not supported",
        ),
        (
            '<bpmn:userTask id="it" camunda:priority="urgent" />',
            "it: camunda:priority 'urgent' is not supported",
        ),
    ],
)
def test_what_cannot_run_here_is_refused_by_element_with_what_to_use_instead(
    body: str, expected: str
) -> None:
    found = problems(body)
    assert any(p.startswith(expected) for p in found), found


def test_a_java_service_task_gets_one_refusal_not_also_a_missing_topic() -> None:
    found = problems('<bpmn:serviceTask id="it" camunda:class="org.example.Charge" />')
    assert len(found) == 1, found


def test_a_javascript_script_is_not_also_reported_as_bad_python() -> None:
    body = (
        '<bpmn:scriptTask id="it" scriptFormat="JavaScript">'
        "<bpmn:script>var x = 1;</bpmn:script></bpmn:scriptTask>"
    )
    assert len(problems(body)) == 1


@pytest.mark.parametrize(
    "body",
    [
        '<bpmn:scriptTask id="it" scriptFormat="python">'
        "<bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>",
        '<bpmn:scriptTask id="it"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
        '<bpmn:serviceTask id="it" camunda:type="external" camunda:topic="work" />',
        '<bpmn:intermediateThrowEvent id="it"><bpmn:messageEventDefinition id="md" '
        'messageRef="m" camunda:expression="{\'ok\': True}" /></bpmn:intermediateThrowEvent>',
        '<bpmn:userTask id="it" camunda:dueDate="2027-01-31T09:00:00" '
        'camunda:followUpDate="${later}" camunda:priority="80" />',
    ],
)
def test_python_external_tasks_message_payloads_and_plain_attributes_deploy(body: str) -> None:
    assert problems(body) == []


def constraint(kind: str, name: str, config: str | None = None, default: str = "") -> str:
    config_attr = f' config="{config}"' if config is not None else ""
    return form(
        f'<camunda:formField id="f" type="{kind}"{default}><camunda:validation>'
        f'<camunda:constraint name="{name}"{config_attr} /></camunda:validation>'
        "</camunda:formField>"
    )


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            constraint("string", "maxlength", "ten"),
            "it: form field 'f': constraint maxlength needs a whole number as config, "
            "for example 40",
        ),
        (
            constraint("long", "min", "1.5"),
            "it: form field 'f': constraint min needs a whole number as config, for example 1",
        ),
        (
            constraint("date", "max", "2027/01/31"),
            "it: form field 'f': constraint max needs a date as config, "
            "for example 31/12/2026 or 2026-12-31",
        ),
        (
            constraint("string", "min", "3"),
            "it: form field 'f': constraint min applies to long and date fields; "
            "use minlength for text",
        ),
        (
            constraint("string", "pattern", "[a-"),
            "it: form field 'f': constraint pattern is no valid regular expression",
        ),
        (
            constraint("string", "org.example.Validator"),
            "it: form field 'f': constraint 'org.example.Validator' cannot run here; use "
            "required, minlength, maxlength, min, max, pattern or readonly, or a task "
            "validator",
        ),
        (
            form('<camunda:formField id="f" type="date" defaultValue="tomorrow" />'),
            "it: form field 'f': defaultValue 'tomorrow' is no date; write 31/12/2026 or "
            "2026-12-31",
        ),
        (
            form('<camunda:formField id="f" type="long" defaultValue="many" />'),
            "it: form field 'f': defaultValue 'many' is no whole number",
        ),
    ],
)
def test_a_form_constraint_or_default_that_does_not_fit_its_field_is_refused(
    field: str, expected: str
) -> None:
    found = problems(field)
    assert expected in found, found


def test_fitting_constraints_and_defaults_deploy() -> None:
    fields = (
        constraint("date", "min", "01/01/2026", ' defaultValue="2026-06-01"')
        .replace("</camunda:formData>", "")
        .replace("</bpmn:extensionElements></bpmn:userTask>", "")
        + '<camunda:formField id="n" type="long" defaultValue="3" />'
        "</camunda:formData></bpmn:extensionElements></bpmn:userTask>"
    )
    assert problems(fields) == []
