"""Builders of the unit tests: a small checkout diagram whose gateway follows a
condition, run in plain SpiffWorkflow with the restricted script engine; a form field;
PSKC seed files written inline (`key_package`, `document`) or by python-pskc with a
legacy cipher (`encrypted_file`)."""

from __future__ import annotations

import base64
import io
import warnings
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from cryptography.utils import CryptographyDeprecationWarning
from pskc import PSKC
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from engine import forms
from engine.scripting import RestrictedScriptEngine

CLOCK_TIME = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def checkout_bpmn(condition):
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="defs"
    targetNamespace="http://tokenflow.test/scripting">
  <bpmn:process id="checkout" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_count" sourceRef="start" targetRef="count_attempt"/>
    <bpmn:scriptTask id="count_attempt" scriptFormat="python">
      <bpmn:script>attempts = attempts + 1</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:sequenceFlow id="to_choose" sourceRef="count_attempt" targetRef="choose"/>
    <bpmn:exclusiveGateway id="choose" default="to_invoice"/>
    <bpmn:sequenceFlow id="to_card" sourceRef="choose" targetRef="card_end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"
        >{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_invoice" sourceRef="choose" targetRef="invoice_end"/>
    <bpmn:endEvent id="card_end"/>
    <bpmn:endEvent id="invoice_end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def start_checkout(condition, **data):
    parser = CamundaParser()
    parser.add_bpmn_str(checkout_bpmn(condition))
    workflow = BpmnWorkflow(parser.get_spec("checkout"), script_engine=RestrictedScriptEngine())
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    return workflow


def completed(workflow, spec_name):
    return bool(workflow.get_tasks(state=TaskState.COMPLETED, spec_name=spec_name))


# -- forms ---------------------------------------------------------------------------


def field(
    id: str = "f",
    type: str = "string",
    default: str | None = None,
    **constraints: str | None,
) -> forms.Field:
    """A form field `id` of `type`; `required=None` and other keywords are its constraints."""
    return forms.Field(
        id=id,
        label=id,
        type=type,
        required="required" in constraints,
        default=default,
        help=None,
        sensitive=False,
        options=(),
        options_variable=None,
        label_variable=None,
        constraints=tuple(constraints.items()),
    )


# -- PSKC seed files (RFC 6030) ------------------------------------------------------

TOTP_URN = "urn:ietf:params:xml:ns:keyprov:pskc:totp"
SECRET_20 = b"\x01" * 20
# A multiple of 8 bytes, as 3DES key wrap requires.
LEGACY_SECRET = b"123456789012345678901234"


def key_package(
    serial: str | None = "TF-0001",
    algorithm: str = TOTP_URN,
    digits: str | None = "6",
    suite: str | None = None,
    secret: bytes | None = SECRET_20,
    interval: int | None = None,
    counter: int | None = None,
    key_id: str | None = None,
) -> str:
    """One <KeyPackage>; None leaves the element out."""
    device = f"<DeviceInfo><SerialNo>{serial}</SerialNo></DeviceInfo>" if serial else ""
    params = f"<Suite>{suite}</Suite>" if suite else ""
    if digits is not None:
        params += f'<ResponseFormat Length="{digits}" Encoding="DECIMAL"/>'
    data = ""
    if secret is not None:
        data += f"<Secret><PlainValue>{base64.b64encode(secret).decode()}</PlainValue></Secret>"
    if counter is not None:
        data += f"<Counter><PlainValue>{counter}</PlainValue></Counter>"
    if interval is not None:
        data += f"<TimeInterval><PlainValue>{interval}</PlainValue></TimeInterval>"
    id_attribute = f' Id="{key_id}"' if key_id else ""
    return (
        f"<KeyPackage>{device}<Key{id_attribute} Algorithm={algorithm!r}>"
        f"<AlgorithmParameters>{params}</AlgorithmParameters><Data>{data}</Data>"
        "</Key></KeyPackage>"
    )


def document(*packages: str) -> bytes:
    """A PSKC <KeyContainer> of `packages`."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc">'
        + "".join(packages)
        + "</KeyContainer>"
    ).encode()


def encrypted_file(algorithm: str, key: bytes) -> bytes:
    """A one-token TOTP file, secret encrypted with `algorithm` and MAC'd, by python-pskc."""
    container = PSKC()
    container.add_key(
        serial="LEGACY01",
        algorithm=TOTP_URN,
        response_length=6,
        secret=LEGACY_SECRET,
        time_interval=30,
    )
    out = io.BytesIO()
    with warnings.catch_warnings():  # writing them warns as reading them used to
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        container.encryption.setup_preshared_key(key=key, algorithm=algorithm)
        container.write(out)
    return out.getvalue()
