"""Reading BPMN: SpiffWorkflow's CamundaParser, taught Tokenflow's dialect.

- `camunda:topic` on a service task names the handler that runs it (external-task
  pattern); its `camunda:properties` are the handler's settings.
- `camunda:formData` is read whether or not the task has a `camunda:formKey`.
- XML is read without DTDs or entities (no XML bombs, no external entities).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    CamundaTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.user_task import Form, FormField, UserTask

MAX_BPMN_BYTES = 2 * 1024 * 1024
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class UnsafeXml(ValueError):
    pass


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: refuse DTDs (entities, bombs) and oversized documents."""
    if len(data) > MAX_BPMN_BYTES:
        raise UnsafeXml(f"file is larger than {MAX_BPMN_BYTES // 1024} KiB")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXml("DOCTYPE and entity declarations are not allowed")
    try:
        return etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from exc


def _camunda_properties(parser: CamundaTaskParser) -> dict[str, str]:
    props = {}
    for node in parser.xpath("./bpmn:extensionElements/camunda:properties/camunda:property"):
        props[node.get("name") or node.get("id")] = node.get("value")
    return props


class ExternalServiceTaskParser(CamundaTaskParser):
    def create_task(self) -> ServiceTask:
        task = self.spec_class(self.spec, self.bpmn_id, **self.bpmn_attributes)
        task.topic = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        return task

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        return _camunda_properties(self)


class FormUserTaskParser(UserTaskParser):
    def get_form(self) -> Form:
        # CamundaParser skips formData when formKey is absent, and Camunda Modeler omits it.
        form = Form()
        form.key = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}formKey") or ""
        for xml_field in self.xpath(".//camunda:formData/camunda:formField"):
            form.add_field(self._read_field(xml_field))
        return form

    def _read_field(self, xml_field: Any) -> FormField:
        is_enum = xml_field.get("type") == "enum"
        field = self.get_enum_field(xml_field) if is_enum else FormField()
        field.id = xml_field.get("id")
        field.type = xml_field.get("type")
        field.label = xml_field.get("label")
        field.default_value = xml_field.get("defaultValue")
        prefix = f"{{{CAMUNDA_MODEL_NS}}}"
        for child in xml_field:
            if child.tag == f"{prefix}properties":
                for prop in child:
                    field.add_property(prop.get("id"), prop.get("value"))
            if child.tag == f"{prefix}validation":
                for constraint in child:
                    field.add_validation(constraint.get("name"), constraint.get("config"))
        return field

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        return _camunda_properties(self)


class TokenflowParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ExternalServiceTaskParser, ServiceTask),
        full_tag("userTask"): (FormUserTaskParser, UserTask),
    }


@dataclass
class ParsedFile:
    name: str
    xml: bytes
    root: etree._Element
    process_ids: list[str] = field(default_factory=list)
    process_names: dict[str, str | None] = field(default_factory=dict)


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def read_file(name: str, data: bytes) -> ParsedFile:
    root = parse_xml(data)
    parsed = ParsedFile(name=name, xml=data, root=root)
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("isExecutable", "true") != "false":
            parsed.process_ids.append(proc.get("id"))
            parsed.process_names[proc.get("id")] = proc.get("name")
    return parsed


def build_parser(files: list[ParsedFile]) -> TokenflowParser:
    parser = TokenflowParser()
    for f in files:
        parser.add_bpmn_xml(f.root, filename=f.name)
    return parser
