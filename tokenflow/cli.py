"""The `tokenflow` command. Bad input: one clear line on stderr and a non-zero exit."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from domain.accounts.roles import ROLES
from service_layer.config import Config, ConfigError
from service_layer.system import System

from . import files, gc_tuning, logging_setup


class CliError(Exception):
    pass


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    # Keys, database, outbox and backups: nothing this process writes is for other users.
    files.use_private_umask()
    try:
        # The long-running halves log JSON for log shippers; the rest, text for people.
        default_format = "json" if args.command in ("web", "worker") else "text"
        logging_setup.configure(os.environ.get("TOKENFLOW_LOG_FORMAT", default_format))
        return int(args.func(args) or 0)
    except (CliError, ConfigError) as exc:
        print(f"tokenflow: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # last resort: a line, not a traceback
        from engine.errors import EngineError

        detail = exc.detail if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        print(f"tokenflow: {detail}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tokenflow", description="Tokenflow credential processes")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="web + worker in one process").set_defaults(func=cmd_run)
    web = sub.add_parser("web", help="the web half, under gunicorn")
    web.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    web.set_defaults(func=cmd_web)
    sub.add_parser("worker", help="the background half").set_defaults(func=cmd_worker)
    db = sub.add_parser("db", help="upgrade | backup FILE | restore FILE").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    backup = db.add_parser("backup", help="online backup of the embedded database")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_db_backup)
    restore = db.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("file")
    restore.set_defaults(func=cmd_db_restore)
    deploy = sub.add_parser("deploy", help="validate and deploy BPMN and DMN files")
    deploy.add_argument("paths", nargs="*", default=["processes"])
    deploy.set_defaults(func=cmd_deploy)
    users = sub.add_parser("users", help="create | roles NAME --role ROLE").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user")
    create.add_argument("name")
    create.add_argument("--role", action="append", required=True, choices=ROLES)
    create.add_argument("--email")
    create.add_argument(
        "--groups", default="", help="candidate groups to join, comma-separated (made if new)"
    )
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(func=cmd_users_create)
    roles = users.add_parser("roles", help="set a user's roles (ends the user's sessions)")
    roles.add_argument("name")
    roles.add_argument("--role", action="append", required=True, choices=ROLES)
    roles.set_defaults(func=cmd_users_roles)
    groups = sub.add_parser("groups", help="add GROUP USER...").add_subparsers(
        dest="groups_command", required=True
    )
    group_add = groups.add_parser("add", help="put staff into a group (made if new)")
    group_add.add_argument("group")
    group_add.add_argument("users", nargs="+")
    group_add.set_defaults(func=cmd_groups_add)
    tokens = sub.add_parser("tokens", help="import FILE | demo-codes SERIAL").add_subparsers(
        dest="tokens_command", required=True
    )
    imp = tokens.add_parser("import", help="import a PSKC (RFC 6030) seed file")
    imp.add_argument("file")
    imp.add_argument("--psk", help="pre-shared key, hex")
    imp.add_argument("--iv", help="CBC IV given apart from the file (aes128-cbc-noiv), hex")
    imp.add_argument("--password-stdin", action="store_true")
    imp.add_argument("--batch")
    imp.set_defaults(func=cmd_tokens_import)
    codes = tokens.add_parser("demo-codes", help="two consecutive codes of a DEMO token")
    codes.add_argument("serial")
    codes.set_defaults(func=cmd_demo_codes)
    apps = sub.add_parser("apps", help="create NAME --accepts KINDS | list").add_subparsers(
        dest="apps_command", required=True
    )
    app_create = apps.add_parser("create", help="register a relying application")
    app_create.add_argument("name")
    app_create.add_argument(
        "--accepts", required=True, help="credential kinds: hardware_token[,phone]"
    )
    app_create.set_defaults(func=cmd_apps_create)
    apps.add_parser("list", help="registered relying applications").set_defaults(func=cmd_apps_list)
    audit = sub.add_parser("audit", help="verify: check the audit hash chains").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the audit hash chains").set_defaults(func=cmd_audit)
    sub.add_parser("demo", help="load the demo data (idempotent)").set_defaults(func=cmd_demo)
    return p


def _system() -> Any:
    """The wired system, once the database is known to have the schema this code needs."""
    from .schema import schema_problem
    from .system import build_system

    system = build_system(Config.from_env())
    problem = schema_problem(system.db)
    if problem:
        system.close()
        raise CliError(problem)
    return system


def _session(system: System) -> Any:
    from engine.db import unit_of_work

    return unit_of_work(system.session_factory)


def _read_secret(prompt: str, from_stdin: bool) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        value = getpass.getpass(prompt)
    else:
        raise CliError("no terminal to ask for a password: use --password-stdin")
    if not value:
        raise CliError("empty password")
    return value


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from .schema import upgrade

    config = Config.from_env()
    files.prepare(config)
    upgrade(config.database_url)
    print("database is up to date")
    return 0


def cmd_db_backup(args: argparse.Namespace) -> int:
    from .backup import BackupError, backup

    try:
        backup(Config.from_env().database_url, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    print(f"backup written to {args.file}")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from .backup import BackupError, restore

    config = Config.from_env()
    files.prepare(config)
    try:
        restore(config.database_url, Path(args.file))
    except BackupError as exc:
        raise CliError(str(exc)) from exc
    print(f"restored {args.file}; check it with `tokenflow audit verify`")
    return 0


def bpmn_sources(paths: list[str]) -> list[tuple[str, bytes]]:
    sources = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [*path.glob("*.bpmn"), *path.glob("*.dmn")]
            sources.extend((f.name, f.read_bytes()) for f in sorted(found))
        elif path.is_file():
            sources.append((path.name, path.read_bytes()))
        else:
            raise CliError(f"{raw}: no such file or directory")
    if not sources:
        raise CliError("no .bpmn or .dmn files to deploy")
    return sources


def cmd_deploy(args: argparse.Namespace) -> int:
    from engine import definitions
    from engine.actors import SYSTEM
    from engine.errors import DefinitionInvalid

    system = _system()
    try:
        deployed = system.engine.deploy(bpmn_sources(args.paths), SYSTEM)
    except DefinitionInvalid as exc:
        for problem in exc.problems:
            print(f"tokenflow: {problem}", file=sys.stderr)
        return 1
    for warning in definitions.warnings_of(deployed):
        print(f"tokenflow: {warning}", file=sys.stderr)
    for d in deployed:
        kind = "decision " if d.kind == "decision" else ""
        print(f"{kind}{d.key}: version {d.version}" + ("" if d.changed else " (unchanged)"))
    return 0


def cmd_users_create(args: argparse.Namespace) -> int:
    from domain.accounts.users import AccountError, create_user

    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    password = _read_secret("Password: ", args.password_stdin)
    system = _system()
    try:
        with _session(system) as s:
            create_user(
                s, args.name, password, args.role, email=args.email, actor="cli", groups=groups
            )
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    joined = f"; groups {', '.join(groups)}" if groups else ""
    print(f"created {args.name} ({', '.join(args.role)}{joined})")
    return 0


def cmd_groups_add(args: argparse.Namespace) -> int:
    from domain.accounts.users import AccountError, add_members

    system = _system()
    try:
        with _session(system) as s:
            add_members(s, args.group, args.users, actor="cli")
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    print(f"{args.group}: added {', '.join(args.users)}")
    return 0


def cmd_users_roles(args: argparse.Namespace) -> int:
    from domain.accounts.users import AccountError, set_roles

    system = _system()
    try:
        with _session(system) as s:
            set_roles(s, args.name, args.role, actor="cli")
    except AccountError as exc:
        raise CliError(str(exc)) from exc
    print(f"{args.name} now has the roles {', '.join(sorted(set(args.role)))}; sessions ended")
    return 0


def cmd_tokens_import(args: argparse.Namespace) -> int:
    from service_layer import tokens

    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"{args.file}: no such file")
    try:
        psk = bytes.fromhex(args.psk) if args.psk else None
        iv = bytes.fromhex(args.iv) if args.iv else None
    except ValueError as exc:
        raise CliError("--psk and --iv must be hexadecimal") from exc
    if psk is not None and args.password_stdin:
        raise CliError("give --psk or --password-stdin, not both")
    password = _read_secret("PSKC password: ", True) if args.password_stdin else None
    system = _system()
    try:
        serials = tokens.import_tokens(
            system,
            path.read_bytes(),
            batch=args.batch or path.stem,
            actor="cli",
            psk=psk,
            password=password,
            iv=iv,
        )
    except tokens.PskcImportError as exc:
        raise CliError(f"{path.name}: {exc}") from exc
    print(f"imported {len(serials)} token(s): {', '.join(serials)}")
    return 0


def cmd_demo_codes(args: argparse.Namespace) -> int:
    from domain.tokens.inventory import demo_codes
    from domain.tokens.pskc_import import PskcImportError
    from engine.clock import clock

    system = _system()
    try:
        with _session(system) as s:
            print(" ".join(demo_codes(s, system.services.seed_key, args.serial, clock.now())))
    except PskcImportError as exc:
        raise CliError(str(exc)) from exc
    return 0


def cmd_apps_create(args: argparse.Namespace) -> int:
    from service_layer import applications

    system = _system()
    try:
        app, api_key = applications.register_application(system, "cli", args.name, args.accepts)
    except applications.AppError as exc:
        raise CliError(str(exc)) from exc
    print(f"created application {app.name} (accepts {app.accepts})")
    print(f"API key (shown only now): {api_key}")
    return 0


def cmd_apps_list(args: argparse.Namespace) -> int:
    from service_layer import applications

    for app in applications.list_applications(_system()):
        state = "" if app.active else " (inactive)"
        print(f"{app.name}: accepts {app.accepts}{state}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from engine import audit

    system = _system()
    with _session(system) as s:
        breaks = audit.verify(s)
    for b in breaks:
        print(f"tokenflow: audit chain broken at {b}", file=sys.stderr)
    if not breaks:
        print("audit trail intact")
    return 1 if breaks else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import load_demo

    system = _system()
    for line in load_demo(system):
        print(line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from web.app import create_app

    from .embedded import serve, stop_on_signals

    system = _system()
    return serve(system, create_app(system), stop_on_signals())


def cmd_web(args: argparse.Namespace) -> int:
    """Replace this process with gunicorn; tokenflow/gunicorn_conf.py says how it runs
    (bind address from TOKENFLOW_HOST/PORT, graceful shutdown, JSON logs)."""
    _system().close()  # fail here, in one line, rather than in every gunicorn worker
    gunicorn = Path(sys.executable).with_name("gunicorn")
    os.execv(  # noqa: S606  replaces this process with gunicorn, no shell involved
        str(gunicorn),
        [
            str(gunicorn),
            "--config",
            "python:tokenflow.gunicorn_conf",
            "--workers",
            str(args.workers),
            "web.wsgi:app",
        ],
    )
    return 0  # not reached


def cmd_worker(args: argparse.Namespace) -> int:
    from .embedded import stop_on_signals
    from .worker import Worker

    system = _system()
    stop = stop_on_signals()
    worker = Worker(system)
    files.warn_if_open(system.config)
    gc_tuning.tune()
    worker.start()
    stop.wait()
    worker.stop()
    system.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
