"""Deployed process definitions: numbered versions per content hash, spec bundles.
A deploy takes BPMN and DMN files together (`decisions.py` keeps the decisions)."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field, replace

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import assignment, audit, decisions, dmn, retention, starters, versions
from .errors import DefinitionInvalid, NotFound, Problem
from .models import DecisionDefinition, Group, ProcessDefinition, SpecBundle
from .parser import (
    BPMN_NS,
    ParsedFile,
    UnsafeXml,
    as_utf8,
    build_parser,
    parse_xml,
    read_file,
)
from .persistence import Specs
from .validation import Known, validate


@dataclass(frozen=True)
class Deployed:
    key: str
    version: int
    hash: str
    changed: bool
    # The warnings of the file that holds this process (the same for each of its processes).
    warnings: tuple[Problem, ...] = ()
    kind: str = "process"  # or "decision"


@dataclass
class Batch:
    """The files of one deploy: BPMN diagrams and DMN decision tables."""

    files: list[ParsedFile] = field(default_factory=list)
    dmn: list[dmn.DmnFile] = field(default_factory=list)


def read_files(sources: list[tuple[str, bytes]]) -> Batch:
    problems, batch = [], Batch()
    for name, data in sources:
        try:
            root = parse_xml(data)
            if dmn.is_dmn(root):
                xml = as_utf8(data, root)
                batch.dmn.append(dmn.read(name, xml, parse_xml(xml)))
            else:
                batch.files.append(read_file(name, data))
        except UnsafeXml as exc:
            problems.append(Problem(str(exc), file=name))
    if problems:
        raise DefinitionInvalid(problems)
    return batch


def check(session: Session, batch: Batch, known: Known) -> list[Problem]:
    deployed = set(session.scalars(select(ProcessDefinition.key).distinct()))
    usable = decisions.available(session, batch.dmn)
    known = replace(known, process_keys=deployed, decisions=usable)
    # Each role is a group; admins create the others.
    groups = set(known.roles) | set(session.scalars(select(Group.name)))
    files = batch.files
    return (
        decisions.check_files(batch.dmn)
        + validate(files, known)
        + starters.check(files, groups)
        + assignment.check(files, groups)
        + retention.check(files)
    )


def deploy(
    session: Session, sources: list[tuple[str, bytes]], known: Known, actor: str | None
) -> list[Deployed]:
    """Validate every file, then store a new version of each process whose file changed.
    Any error refuses them all (the warnings listed beside it); warnings alone do not."""
    batch = read_files(sources)
    problems = check(session, batch, known)
    if any(p.is_error for p in problems):
        raise DefinitionInvalid(sorted(problems, key=lambda p: not p.is_error))
    results = []
    for f in batch.files:
        digest = hashlib.sha256(f.xml).hexdigest()
        warnings = _warnings(problems, f.name)
        for key in f.process_ids:
            latest = latest_definition(session, key)
            if latest is not None and latest.hash == digest:
                results.append(Deployed(key, latest.version, digest, False, warnings))
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
                    history_ttl_days=retention.of_process(f.root, key),
                )
            )
            audit.record(
                session, "definition.deployed", actor=actor, key=key, version=version, hash=digest
            )
            results.append(Deployed(key, version, digest, True, warnings))
    # The decisions after the processes: the first result stays the first process.
    results += [
        Deployed(key, version, digest, changed, _warnings(problems, name), kind="decision")
        for key, version, digest, changed, name in decisions.store(session, batch.dmn, actor)
    ]
    session.flush()
    return results


def _warnings(problems: list[Problem], file: str) -> tuple[Problem, ...]:
    return tuple(p for p in problems if p.file == file)


def warnings_of(deployed: list[Deployed]) -> list[Problem]:
    """Each warning of a deploy once, though a file of several processes repeats them."""
    return list(dict.fromkeys(w for d in deployed for w in d.warnings))


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    return versions.latest(session, ProcessDefinition, key)


def latest_definitions(session: Session) -> list[ProcessDefinition]:
    """The latest version of every deployed process."""
    return versions.latest_of_each(session, ProcessDefinition)


def get_definition(session: Session, key: str, version: int | None) -> ProcessDefinition:
    return versions.find(session, ProcessDefinition, key, version, "process definition")


def list_definitions(session: Session) -> list[ProcessDefinition]:
    return versions.every(session, ProcessDefinition)


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
    rules = [d.id for d in decisions.for_processes(session, chosen.values())]
    # Bundles without decisions keep the hash they had before decisions existed.
    pinned = ["decisions", *rules] if rules else []
    digest = hashlib.sha256(json.dumps([top.id, *ids, *pinned]).encode()).hexdigest()
    bundle = session.scalars(select(SpecBundle).where(SpecBundle.hash == digest)).first()
    if bundle is not None:
        return bundle
    # The first starts of a new version race to create its bundle: the loser of the
    # insert takes the winner's row instead of failing the start.
    try:
        with session.begin_nested():
            bundle = SpecBundle(
                hash=digest,
                definition_ids=[top.id, *[i for i in ids if i != top.id]],
                decision_ids=rules,
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
    """Parsed specs, keyed by what they are parsed from: the content hashes of a process
    and of every process it calls. A bundle row's id leads to that key only once the
    transaction that read the row has committed: a rolled-back transaction's rows are
    gone, and SQLite hands their ids out again, to another bundle."""

    def __init__(self) -> None:
        self._specs: dict[str, Specs] = {}  # content key -> parsed specs
        self._keys: dict[int, str] = {}  # committed bundle id -> content key
        self._lock = threading.Lock()

    def get(self, session: Session, bundle_id: int) -> Specs:
        with self._lock:
            key = self._keys.get(bundle_id)
            cached = self._specs.get(key) if key is not None else None
        if cached is not None:
            return cached
        bundle = session.get(SpecBundle, bundle_id)
        if bundle is None:
            raise NotFound(f"spec bundle {bundle_id} is missing")
        found = [session.get(ProcessDefinition, i) for i in bundle.definition_ids]
        chosen = [d for d in found if d is not None]
        tables = [session.get(DecisionDefinition, i) for i in bundle.decision_ids or []]
        pinned = [t for t in tables if t is not None]
        key = _content_key(chosen, pinned)
        with self._lock:
            specs = self._specs.get(key)
        if specs is None:
            specs = _parse(chosen, pinned)
            with self._lock:
                self._specs[key] = specs
        session.info.setdefault(_UNCOMMITTED, []).append((self, bundle_id, key))
        return specs

    def _learn(self, bundle_id: int, key: str) -> None:
        with self._lock:
            self._keys[bundle_id] = key


_UNCOMMITTED = "spec_bundles_read"


def _content_key(chosen: list[ProcessDefinition], pinned: list[DecisionDefinition]) -> str:
    """The top process's key and the content of every file the bundle parses."""
    parts = [chosen[0].key, *sorted({(d.key, d.hash) for d in chosen})]
    if pinned:
        parts += ["decisions", *sorted({(d.key, d.hash) for d in pinned})]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def _parse(chosen: list[ProcessDefinition], pinned: list[DecisionDefinition]) -> Specs:
    files, seen = [], set()
    for d in chosen:
        if d.hash not in seen:
            seen.add(d.hash)
            files.append(read_file(d.file_name, d.xml.encode("utf-8")))
    top_key = chosen[0].key
    parser = build_parser(files, decisions.compiled(pinned))
    return Specs(parser.get_spec(top_key), parser.get_subprocess_specs(top_key))


@event.listens_for(Session, "after_commit")
def _bundles_committed(session: Session) -> None:
    if session.in_transaction():
        return  # a savepoint: its rows may still be rolled back with the transaction
    for cache, bundle_id, key in session.info.pop(_UNCOMMITTED, []):
        cache._learn(bundle_id, key)


@event.listens_for(Session, "after_rollback")
def _bundles_rolled_back(session: Session) -> None:
    # A savepoint's rollback lands here too: forgetting costs one read of the bundle row
    # at the next start, never a parse (the content key still finds the specs).
    session.info.pop(_UNCOMMITTED, None)
