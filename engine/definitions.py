"""Deployed process definitions: numbered versions per content hash, spec bundles."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, starters
from .errors import DefinitionInvalid, NotFound, Problem
from .models import ProcessDefinition, SpecBundle
from .parser import BPMN_NS, ParsedFile, UnsafeXml, build_parser, parse_xml, read_file
from .persistence import Specs
from .validation import Known, validate


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    hash: str
    changed: bool


def read_files(sources: list[tuple[str, bytes]]) -> list[ParsedFile]:
    problems, files = [], []
    for name, data in sources:
        try:
            files.append(read_file(name, data))
        except UnsafeXml as exc:
            problems.append(Problem(str(exc), file=name))
    if problems:
        raise DefinitionInvalid(problems)
    return files


def check(session: Session, files: list[ParsedFile], known: Known) -> list[Problem]:
    deployed = set(session.scalars(select(ProcessDefinition.key).distinct()))
    known = Known(known.topics, known.validators, known.roles, deployed)
    return validate(files, known) + starters.check(files, known.roles)


def deploy(
    session: Session, sources: list[tuple[str, bytes]], known: Known, actor: str | None
) -> list[Deployed]:
    """Validate every file, then store a new version of each process whose file changed."""
    files = read_files(sources)
    problems = check(session, files, known)
    if problems:
        raise DefinitionInvalid(problems)
    results = []
    for f in files:
        digest = hashlib.sha256(f.xml).hexdigest()
        for key in f.process_ids:
            latest = latest_definition(session, key)
            if latest is not None and latest.hash == digest:
                results.append(Deployed(key, latest.version, digest, changed=False))
                continue
            version = (latest.version if latest else 0) + 1
            session.add(
                ProcessDefinition(
                    key=key,
                    name=f.process_names.get(key),
                    version=version,
                    hash=digest,
                    file_name=f.name,
                    xml=f.xml.decode("utf-8"),
                    deployed_by=actor,
                    starters=starters.of_process(f.root, key),
                )
            )
            audit.record(
                session, "definition.deployed", actor=actor, key=key, version=version, hash=digest
            )
            results.append(Deployed(key, version, digest, changed=True))
    session.flush()
    return results


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return session.scalars(
        select(ProcessDefinition)
        .where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc())
        .limit(1)
    ).first()


def get_definition(session: Session, key: str, version: int | None) -> ProcessDefinition:
    if version is None:
        found = latest_definition(session, key)
    else:
        found = session.scalars(
            select(ProcessDefinition).where(
                ProcessDefinition.key == key, ProcessDefinition.version == version
            )
        ).first()
    if found is None:
        raise NotFound(
            f"No process definition {key!r}" + (f" version {version}" if version else "")
        )
    return found


def list_definitions(session: Session) -> list[ProcessDefinition]:
    return list(
        session.scalars(
            select(ProcessDefinition).order_by(ProcessDefinition.key, ProcessDefinition.version)
        )
    )


def bundle_for(session: Session, top: ProcessDefinition) -> SpecBundle:
    """The latest version of every process `top` calls, transitively; stored once per set."""
    chosen = {top.key: top}
    pending = [top]
    while pending:
        definition = pending.pop()
        for called in called_keys(definition.xml):
            if called in chosen:
                continue
            found = latest_definition(session, called)
            if found is None:
                raise NotFound(
                    f"Process {definition.key!r} calls {called!r}, which is not deployed"
                )
            chosen[called] = found
            pending.append(found)
    ids = sorted(d.id for d in chosen.values())
    digest = hashlib.sha256(json.dumps([top.id, *ids]).encode()).hexdigest()
    bundle = session.scalars(select(SpecBundle).where(SpecBundle.hash == digest)).first()
    if bundle is not None:
        return bundle
    # The first starts of a new version race to create its bundle: the loser of the
    # insert takes the winner's row instead of failing the start.
    try:
        with session.begin_nested():
            bundle = SpecBundle(
                hash=digest, definition_ids=[top.id, *[i for i in ids if i != top.id]]
            )
            session.add(bundle)
    except IntegrityError:
        bundle = session.scalars(select(SpecBundle).where(SpecBundle.hash == digest)).one()
    return bundle


def called_keys(xml: str) -> list[str]:
    """The process keys that `xml`'s call activities start."""
    root = parse_xml(xml.encode("utf-8"))
    return [c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")]


class SpecCache:
    """Parsed specs per bundle: parsing happens once per bundle per process."""

    def __init__(self) -> None:
        self._specs: dict[int, Specs] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, bundle_id: int) -> Specs:
        with self._lock:
            cached = self._specs.get(bundle_id)
        if cached is not None:
            return cached
        bundle = session.get(SpecBundle, bundle_id)
        if bundle is None:
            raise NotFound(f"spec bundle {bundle_id} is missing")
        definitions = [session.get(ProcessDefinition, i) for i in bundle.definition_ids]
        files, seen = [], set()
        for d in definitions:
            if d is not None and d.hash not in seen:
                seen.add(d.hash)
                files.append(read_file(d.file_name, d.xml.encode("utf-8")))
        top_key = definitions[0].key
        parser = build_parser(files)
        specs = Specs(parser.get_spec(top_key), parser.get_subprocess_specs(top_key))
        with self._lock:
            self._specs[bundle_id] = specs
        return specs
