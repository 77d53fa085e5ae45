from __future__ import annotations

import io
import os
import stat

import pytest
from sqlalchemy import text

from engine.db import make_db_engine
from tests.builders import BPMN_DIR
from tokenflow.cli import main
from tokenflow.schema import head


@pytest.fixture
def env(config, monkeypatch):
    monkeypatch.setenv("TOKENFLOW_INSTANCE_DIR", str(config.instance_dir))
    monkeypatch.setenv("TOKENFLOW_DATABASE_URL", config.database_url)
    return config


def run(*argv: str, stdin: str = "") -> int:
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return main(list(argv))
    finally:
        sys.stdin = old


def test_db_upgrade_is_idempotent(env, capsys):
    assert run("db", "upgrade") == 0
    assert "up to date" in capsys.readouterr().out


def test_deploy_reports_each_problem_on_one_line_and_fails(env, capsys, tmp_path):
    bad = tmp_path / "bad.bpmn"
    bad.write_text((BPMN_DIR / "linear.bpmn").read_text().replace('"PT1H"', "PT1X"))
    assert run("deploy", str(bad)) == 1
    err = capsys.readouterr().err
    assert "wait_hour: timer PT1X is not a valid ISO 8601 timeDuration" in err
    assert "Traceback" not in err


def test_deploy_of_a_missing_path_is_one_clear_line(env, capsys):
    assert run("deploy", "/nonexistent/x.bpmn") == 2
    assert capsys.readouterr().err.strip() == (
        "tokenflow: /nonexistent/x.bpmn: no such file or directory"
    )


def test_users_create_reads_the_password_from_stdin_and_refuses_duplicates(env, capsys):
    create = ("users", "create", "fran", "--role", "finance", "--password-stdin")
    assert run(*create, stdin="a long password\n") == 0
    assert run(*create, stdin="a long password\n") == 2
    assert "taken" in capsys.readouterr().err
    assert (
        run("users", "create", "x", "--role", "finance", "--password-stdin", stdin="short\n") == 2
    )


def test_users_roles_changes_the_roles_and_refuses_an_unknown_user(env, capsys):
    assert (
        run(
            "users",
            "create",
            "sam",
            "--role",
            "support",
            "--password-stdin",
            stdin="a long password\n",
        )
        == 0
    )
    assert run("users", "roles", "sam", "--role", "support", "--role", "finance") == 0
    assert "sam now has the roles finance, support; sessions ended" in capsys.readouterr().out
    assert run("users", "roles", "nobody", "--role", "finance") == 2
    assert capsys.readouterr().err.strip() == "tokenflow: No user is called 'nobody'."


def test_audit_verify_exits_non_zero_on_a_tampered_row(env, capsys):
    assert (
        run(
            "users",
            "create",
            "ann",
            "--role",
            "admin",
            "--password-stdin",
            stdin="a long password\n",
        )
        == 0
    )
    assert run("audit", "verify") == 0
    db = make_db_engine(env.database_url)
    with db.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'mallory'"))
    db.dispose()
    assert run("audit", "verify") == 1
    assert "content was changed" in capsys.readouterr().err


def test_tokens_import_refuses_a_malformed_file_with_one_line(env, capsys, tmp_path):
    bad = tmp_path / "seeds.pskc"
    bad.write_text("<KeyContainer>")
    assert run("tokens", "import", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("tokenflow: seeds.pskc:") and "Traceback" not in err


def test_tokens_import_reads_rfc6030_figure_6_with_its_pre_shared_key(env, capsys):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "pskc" / "rfc6030_figure6.pskcxml"
    assert run("tokens", "import", str(fixture), "--psk", "12345678901234567890123456789012") == 0
    assert "imported 1 token(s)" in capsys.readouterr().out


@pytest.fixture(autouse=True)
def _keep_the_umask():
    """main() makes its process's files private; the test process keeps its own umask."""
    previous = os.umask(0o077)
    os.umask(previous)
    yield
    os.umask(previous)


@pytest.fixture
def unmigrated(tmp_path, monkeypatch):
    """A database that was never migrated (an empty SQLite file)."""
    monkeypatch.setenv("TOKENFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    url = f"sqlite:///{tmp_path / 'never-migrated.db'}"
    monkeypatch.setenv("TOKENFLOW_DATABASE_URL", url)
    return url


SCHEMA_HINT = "tokenflow: the database schema is missing or behind: run `tokenflow db upgrade`\n"


@pytest.mark.parametrize(
    "command",
    [("deploy",), ("audit", "verify"), ("apps", "list"), ("demo",), ("worker",), ("run",)],
    ids=" ".join,
)
def test_a_command_on_a_never_migrated_database_says_to_upgrade_in_one_line(
    unmigrated, capsys, command
):
    assert run(*command) == 2
    assert capsys.readouterr().err == SCHEMA_HINT


@pytest.fixture
def set_revision(env):
    """Put the database's recorded migration elsewhere; put it back afterwards (the
    PostgreSQL test database is shared by the whole session)."""
    db = make_db_engine(env.database_url)

    def set_to(revision: str | None) -> None:
        with db.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
            if revision is not None:
                conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})

    yield set_to
    set_to(head())
    db.dispose()


def test_a_database_behind_the_code_gets_the_same_hint(env, set_revision, capsys):
    set_revision(None)
    assert run("deploy", str(BPMN_DIR / "linear.bpmn")) == 2
    assert capsys.readouterr().err == SCHEMA_HINT


def test_a_database_migrated_by_a_newer_tokenflow_is_named_as_such(env, set_revision, capsys):
    set_revision("9999_from_the_future")
    assert run("audit", "verify") == 2
    err = capsys.readouterr().err
    assert "at 9999_from_the_future, which this version of Tokenflow does not know" in err


def test_help_lists_the_database_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "upgrade | backup FILE | restore FILE" in out


def test_backup_on_postgresql_points_at_pg_dump_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("TOKENFLOW_INSTANCE_DIR", str(tmp_path / "instance"))
    monkeypatch.setenv("TOKENFLOW_DATABASE_URL", "postgresql+psycopg://db.example/tokenflow")
    assert run("db", "backup", str(tmp_path / "copy.db")) == 2
    assert capsys.readouterr().err == (
        "tokenflow: db backup and db restore are for the embedded SQLite database; on "
        "PostgreSQL use pg_dump and point-in-time recovery (README: Backups)\n"
    )
    assert not (tmp_path / "copy.db").exists()


def test_backup_never_overwrites_a_file_and_writes_a_private_one(env, tmp_path, capsys):
    if not env.database_url.startswith("sqlite"):
        pytest.skip("backups are of the embedded SQLite database")
    target = tmp_path / "copy.db"
    assert run("db", "backup", str(target)) == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert run("db", "backup", str(target)) == 2
    assert "already exists; a backup never overwrites a file" in capsys.readouterr().err


def test_restore_refuses_a_database_that_is_not_empty(env, tmp_path, capsys):
    if not env.database_url.startswith("sqlite"):
        pytest.skip("backups are of the embedded SQLite database")
    target = tmp_path / "copy.db"
    assert run("db", "backup", str(target)) == 0
    assert run("db", "restore", str(target)) == 2
    assert "is not empty: restore only into an empty database" in capsys.readouterr().err


def test_restore_refuses_a_file_that_is_not_a_tokenflow_backup(unmigrated, tmp_path, capsys):
    stray = tmp_path / "notes.txt"
    stray.write_text("not a database")
    assert run("db", "restore", str(stray)) == 2
    assert capsys.readouterr().err == f"tokenflow: {stray}: not a Tokenflow database backup\n"


def test_tokens_import_of_a_camellia_file_prints_the_result_and_no_library_warning(
    env, capfd, tmp_path
):
    import warnings

    from tests.unit.builders import encrypted_file

    key = bytes(range(16))
    seeds = tmp_path / "camellia.pskcxml"
    seeds.write_bytes(encrypted_file("camellia128-cbc", key))
    with warnings.catch_warnings():
        warnings.simplefilter("default")  # printed, as outside the test suite
        assert run("tokens", "import", str(seeds), "--psk", key.hex()) == 0
    out, err = capfd.readouterr()
    assert out == "imported 1 token(s): LEGACY01\n"
    assert "Warning" not in out + err


def test_tokens_import_takes_the_iv_of_a_noiv_file_in_hex(env, capsys):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "pskc" / "python_pskc_aes128_cbc_noiv.pskcxml"
    psk, iv = "12345678901234567890123456789012", "000102030405060708090a0b0c0d0e0f"
    assert run("tokens", "import", str(fixture), "--psk", psk, "--iv", iv) == 0
    assert "imported 1 token(s): NOIV0001" in capsys.readouterr().out


def test_a_token_import_is_audited_in_the_inventory_chain_not_the_system_one(env):
    from pathlib import Path

    fixture = Path(__file__).parent / "fixtures" / "pskc" / "rfc6030_figure3.pskcxml"
    assert run("tokens", "import", str(fixture)) == 0
    db = make_db_engine(env.database_url)
    with db.connect() as conn:
        chains = conn.execute(
            text("SELECT chain FROM audit_events WHERE event = 'tokens.imported'")
        ).scalars()
        assert list(chains) == ["inventory"]
    db.dispose()
    assert run("audit", "verify") == 0


def _members(env) -> set[tuple[str, str]]:
    db = make_db_engine(env.database_url)
    try:
        with db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT g.name, u.username FROM group_members m"
                    " JOIN groups g ON g.id = m.group_id JOIN users u ON u.id = m.user_id"
                )
            )
            return {(row[0], row[1]) for row in rows}
    finally:
        db.dispose()


def test_users_create_puts_the_new_user_into_the_groups_named(env, capsys):
    create = ("users", "create", "gina", "--role", "support", "--groups", "tier2,fraud")
    assert run(*create, "--password-stdin", stdin="a long password\n") == 0
    assert "created gina (support; groups tier2, fraud)" in capsys.readouterr().out
    assert _members(env) == {("tier2", "gina"), ("fraud", "gina")}


def test_groups_add_makes_the_group_when_new_and_refuses_customers_and_strangers(env, capsys):
    for name, role in (("hal", "support"), ("ivy", "finance"), ("cam", "customer")):
        create = ("users", "create", name, "--role", role, "--password-stdin")
        assert run(*create, stdin="a long password\n") == 0
    assert run("groups", "add", "night_shift", "hal", "ivy") == 0
    assert "night_shift: added hal, ivy" in capsys.readouterr().out
    assert run("groups", "add", "night_shift", "hal") == 0  # already in: no change
    assert run("groups", "add", "night_shift", "cam") == 2
    assert "Only staff join groups; cam is a customer." in capsys.readouterr().err
    assert run("groups", "add", "night_shift", "nobody") == 2
    assert capsys.readouterr().err.strip() == "tokenflow: No user is called 'nobody'."
    assert run("groups", "add", "support", "hal") == 2
    assert "'support' is a role" in capsys.readouterr().err
    assert _members(env) == {("night_shift", "hal"), ("night_shift", "ivy")}


def test_the_installed_command_runs_from_any_folder(tmp_path):
    """The console script as `make run` uses it: from another folder, with no PYTHONPATH,
    every package of the product must be installed (a package missing from pyproject's
    list imports in the tests, which run from the checkout, and nowhere else)."""
    import subprocess
    import sys
    from pathlib import Path

    command = Path(sys.executable).parent / "tokenflow"
    if not command.exists():
        pytest.skip("the tokenflow command is not installed in this environment")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TOKENFLOW_INSTANCE_DIR"] = str(tmp_path / "instance")
    env["TOKENFLOW_DATABASE_URL"] = f"sqlite:///{tmp_path / 'installed.db'}"
    done = subprocess.run(
        [str(command), "db", "upgrade"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
