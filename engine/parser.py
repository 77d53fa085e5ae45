"""Reading BPMN: SpiffWorkflow's CamundaParser, taught Tokenflow's dialect.

- `camunda:topic` on a service task names the handler that runs it (external-task
  pattern); its `camunda:properties` are the handler's settings.
- `camunda:formData` is read whether or not the task has a `camunda:formKey`.
- XML is read in the encoding its byte order mark or declaration names, and kept as
  UTF-8 text (declaration rewritten), without DTDs or entities: the parsed document is
  refused when it has a DOCTYPE, whatever its encoding (no XML bombs, no external entities).
- A sequence flow without an `id` (optional in BPMN) gets one derived from its ends, so
  that SpiffWorkflow, which indexes elements by id, follows it as Tokenflow's checks do.
- A plain `task` or `manualTask` passes the token on, as in Camunda: nobody is asked to
  do it, so it must not wait.
- A multi-instance `camunda:collection="${items}"` (as Camunda Modeler writes it) is read
  as `items`: SpiffWorkflow takes the attribute as a variable's name.
- Every activity's `camunda:inputOutput` (`io_mapping.py`) and a call activity's
  `camunda:in`/`camunda:out` (`call_variables.py`) are kept on its spec for `scopes.py`;
  a start event's `camunda:formData` is its start form (`form`, as on a user task).
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import ManualTask, NoneTask, ServiceTask
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.CamundaParser import CallActivityParser
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    CamundaTaskParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask
from SpiffWorkflow.camunda.specs.user_task import Form, FormField, UserTask
from SpiffWorkflow.specs.base import TaskSpec

from . import assignment, call_variables, io_mapping, task_attributes
from .decision_task import DecisionTaskParser
from .dmn import Decision
from .juel import variable_name
from .scopes import MappedCallActivity

MAX_BPMN_BYTES = 2 * 1024 * 1024
_XML_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


class UnsafeXml(ValueError):
    pass


def parse_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML in any encoding: refuse DTDs (entities, bombs), oversized and
    malformed documents. The parser expands nothing and fetches nothing; the DOCTYPE is
    then looked for on the parsed document, where no encoding can hide it."""
    if len(data) > MAX_BPMN_BYTES:
        raise UnsafeXml(f"file is larger than {MAX_BPMN_BYTES // 1024} KiB")
    try:
        root = etree.fromstring(data, parser=_XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"not well-formed XML: {exc}") from exc
    except LookupError as exc:  # an encoding libxml2 does not know
        raise UnsafeXml(f"the declared encoding is not supported: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DOCTYPE and entity declarations are not allowed")
    return root


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    # Without a mark, the first character `<` says which way round UTF-16 is.
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)
_DECLARED_ENCODING = re.compile(r"""\A(<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")


def as_utf8(data: bytes, root: etree._Element) -> bytes:
    """`data` (already parsed as `root`) as UTF-8 bytes, its declaration saying so: every
    later reader (the definitions table, the spec cache, the analysts' pages) takes UTF-8."""
    # A byte order mark decides over the declaration, as it does for libxml2, which
    # reports UTF-8 for a UTF-16 document that has a BOM and no declaration.
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    encoding = encoding or root.getroottree().docinfo.encoding or "utf-8"
    try:
        if codecs.lookup(encoding).name == "utf-8":
            return data
        text = data.decode(encoding)
    except (LookupError, UnicodeDecodeError) as exc:
        raise UnsafeXml(f"cannot be read as {encoding}: {exc}") from exc
    return _DECLARED_ENCODING.sub(r"\1\2UTF-8\2", text, count=1).encode("utf-8")


def _camunda_properties(parser: CamundaTaskParser) -> dict[str, str]:
    props = {}
    for node in parser.xpath("./bpmn:extensionElements/camunda:properties/camunda:property"):
        props[node.get("name") or node.get("id")] = node.get("value")
    return props


class ExternalServiceTaskParser(CamundaTaskParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def create_task(self) -> ServiceTask:
        task = self.spec_class(self.spec, self.bpmn_id, **self.bpmn_attributes)
        task.topic = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}topic")
        return task

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        return _camunda_properties(self)


class FormUserTaskParser(UserTaskParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def create_task(self) -> UserTask:
        task = super().create_task()
        task.assignment = assignment.of_element(self.node)
        task.task_attributes = task_attributes.read(self.node)
        return task

    def get_form(self) -> Form:
        return read_form(self)

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        return _camunda_properties(self)


def read_form(parser: TaskParser) -> Form:
    """The element's `camunda:formData` (CamundaParser skips it when there is no formKey,
    and Camunda Modeler omits the key)."""
    form = Form()
    form.key = parser.node.get(f"{{{CAMUNDA_MODEL_NS}}}formKey") or ""
    for xml_field in parser.xpath(".//camunda:formData/camunda:formField"):
        form.add_field(_read_field(parser, xml_field))
    return form


def _read_field(parser: TaskParser, xml_field: Any) -> FormField:
    is_enum = xml_field.get("type") == "enum"
    field = UserTaskParser.get_enum_field(parser, xml_field) if is_enum else FormField()
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


@functools.cache
def _scoped(parser_class: type[Any]) -> type:
    """`parser_class`, also keeping the element's mappings (and a start event's form)
    on the spec it creates. Malformed mappings are left off: the deploy checks refuse
    them with the reason."""

    def create_task(self: TaskParser) -> TaskSpec:
        task = parser_class.create_task(self)
        try:
            task.io_mapping = io_mapping.read(self.node)
            task.call_variables = call_variables.read(self.node)
        except (io_mapping.MappingError, call_variables.CallVariablesError):
            task.io_mapping = task.call_variables = None
        if self.node.tag == full_tag("startEvent") and self.xpath("./*/camunda:formData"):
            task.form = read_form(self)
        return task

    return type(parser_class.__name__, (parser_class,), {"create_task": create_task})


class PassThroughTaskParser(CamundaTaskParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """SpiffWorkflow makes `task` and `manualTask` manual: they would wait for a completion
    that no work item, form or API offers. Camunda runs them as pass-through; so do we."""

    def create_task(self) -> TaskSpec:
        task = super().create_task()
        task.manual = False
        return task


class TokenflowParser(CamundaParser):  # type: ignore[misc]  # SpiffWorkflow is untyped
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ExternalServiceTaskParser, ServiceTask),
        full_tag("userTask"): (FormUserTaskParser, UserTask),
        full_tag("task"): (PassThroughTaskParser, NoneTask),
        full_tag("manualTask"): (PassThroughTaskParser, ManualTask),
        full_tag("callActivity"): (CallActivityParser, MappedCallActivity),
        full_tag("businessRuleTask"): (DecisionTaskParser, BusinessRuleTask),
    }

    def __init__(self, decisions: dict[str, Decision] | None = None) -> None:
        super().__init__()
        self.decisions = decisions or {}

    def get_engine(self, decision_ref: str, node: Any) -> Decision:
        """The compiled decision a business rule task names (deploy checked it exists)."""
        found = self.decisions.get(decision_ref)
        if found is None:
            raise ValidationException(
                f"business rule task names decision {decision_ref!r}, which is not deployed",
                node=node,
                file_name="",
            )
        return found

    def _get_parser_class(self, tag: str) -> tuple[Any, Any]:
        parser_class, spec_class = super()._get_parser_class(tag)
        if parser_class is None:
            return parser_class, spec_class
        return _scoped(parser_class), spec_class


@dataclass
class ParsedFile:
    name: str
    xml: bytes
    root: etree._Element
    process_ids: list[str] = field(default_factory=list)
    process_names: dict[str, str | None] = field(default_factory=dict)


BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def read_file(name: str, data: bytes) -> ParsedFile:
    """`data` parsed, with its XML kept as UTF-8 and its anonymous flows named."""
    root = parse_xml(data)
    xml = as_utf8(data, root)
    if xml is not data:  # what is stored must parse as it was checked
        root = parse_xml(xml)
    name_anonymous_flows(root)
    name_juel_collections(root)
    unqualify_references(root)
    parsed = ParsedFile(name=name, xml=xml, root=root)
    for proc in root.iter(f"{{{BPMN_NS}}}process"):
        if proc.get("isExecutable", "true") != "false":
            parsed.process_ids.append(proc.get("id"))
            parsed.process_names[proc.get("id")] = proc.get("name")
    return parsed


def name_anonymous_flows(root: etree._Element) -> None:
    """Give each sequence flow without an id one made of its ends (`Flow_a_to_b`, then
    `Flow_a_to_b_2`...). SpiffWorkflow indexes elements by id and would drop the flow; the
    id is derived from the document alone, so every parse of the stored XML agrees."""
    taken = {el.get("id") for el in root.iter() if isinstance(el.tag, str) and el.get("id")}
    for flow in root.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("id"):
            continue
        base = f"Flow_{flow.get('sourceRef') or 'nowhere'}_to_{flow.get('targetRef') or 'nowhere'}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        flow.set("id", candidate)


# References that BPMN types as QNames; SpiffWorkflow looks them up as plain ids.
_QNAME_REFERENCES = ("messageRef", "signalRef", "errorRef", "escalationRef", "processRef")


def unqualify_references(root: etree._Element) -> None:
    """`messageRef="tns:newInvoice"`, a QName whose prefix names the file's own
    targetNamespace (as Camunda's and the BPMN specification's examples write it), becomes
    the plain id `newInvoice`, on every read of the document. A prefix of another
    namespace stays, and is then refused as an unknown reference."""
    target = root.get("targetNamespace")
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        for attribute in _QNAME_REFERENCES:
            prefix, colon, local = (el.get(attribute) or "").partition(":")
            if colon and local and el.nsmap.get(prefix) == target:
                el.set(attribute, local)


def name_juel_collections(root: etree._Element) -> None:
    """`camunda:collection="${items}"` becomes `items`, on every read of the document."""
    attribute = f"{{{CAMUNDA_MODEL_NS}}}collection"
    for loop in root.iter(f"{{{BPMN_NS}}}multiInstanceLoopCharacteristics"):
        name = variable_name(loop.get(attribute) or "")
        if name is not None:
            loop.set(attribute, name)


def build_parser(
    files: list[ParsedFile], decisions: dict[str, Decision] | None = None
) -> TokenflowParser:
    parser = TokenflowParser(decisions)
    for f in files:
        parser.add_bpmn_xml(f.root, filename=f.name)
    return parser
