"""`python -m vipmodel users …` makes the first admin (no default password anywhere); `demo` never replaces a
mall's imported data unless told to with --replace, and says what it would delete."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from tests.vipmodel.test_cli import IMPORT_DATA
from vipmodel import schema
from vipmodel.audit import audit_trail
from vipmodel.auth import Actor
from vipmodel.cli import main
from vipmodel.db import make_engine
from vipmodel.users import SignInError, authenticate

ADMIN = Actor("auditor", "admin")


def _stdin(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_the_first_admin_is_made_on_the_command_line_and_can_sign_in(db_url, monkeypatch, capsys):
    _stdin(monkeypatch, "a very long password\n")
    assert main(["users", "add", "li.na", "--role", "admin", "--url", db_url]) == 0
    assert "user li.na added as admin" in capsys.readouterr().out
    engine = make_engine(db_url)
    assert authenticate(engine, "li.na", "a very long password") == Actor("li.na", "admin")
    assert main(["users", "list", "--url", db_url]) == 0
    listed = capsys.readouterr().out
    assert "li.na" in listed and "admin" in listed and "argon2" not in listed
    engine.dispose()


def test_roles_passwords_and_disabling_are_changed_on_the_command_line_and_audited(db_url, monkeypatch, capsys):
    _stdin(monkeypatch, "first password!\n")
    main(["users", "add", "wang", "--role", "viewer", "--url", db_url])
    assert main(["users", "set-role", "wang", "marketing", "--url", db_url]) == 0
    _stdin(monkeypatch, "second password!\n")
    assert main(["users", "passwd", "wang", "--url", db_url]) == 0
    engine = make_engine(db_url)
    assert authenticate(engine, "wang", "second password!").role == "marketing"
    assert main(["users", "disable", "wang", "--url", db_url]) == 0
    with pytest.raises(SignInError):
        authenticate(engine, "wang", "second password!")
    actions = audit_trail(engine, ADMIN)["action"].tolist()
    assert actions.count("user_changed") == 3 and "user_added" in actions
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "add", "x", "--role", "admin"], "short\n", "at least 10 characters"),
        (["users", "set-role", "ghost", "admin"], "", "no user 'ghost'"),
    ],
)
def test_bad_user_commands_exit_1_with_the_reason(db_url, monkeypatch, capsys, args, stdin, message):
    _stdin(monkeypatch, stdin)
    assert main([*args, "--url", db_url]) == 1
    assert message in capsys.readouterr().err


def test_demo_refuses_to_replace_imported_data_and_says_what_it_would_delete(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'mall.db'}"
    assert main(["import", str(IMPORT_DATA / "members_good.csv"), "--kind", "members", "--url", url, "--quiet"]) == 0
    _stdin(monkeypatch, "admin password!\n")
    main(["users", "add", "root", "--role", "admin", "--url", url])
    capsys.readouterr()
    assert main(["demo", "--members", "300", "--years", "2", "--url", url, "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "holds imported data" in err and "members" in err and "--replace" in err
    engine = make_engine(url)
    with engine.connect() as conn:
        imported = conn.execute(select(func.count()).select_from(schema.members)).scalar_one()
    assert imported > 0 and imported != 300
    assert main(["demo", "--members", "300", "--years", "2", "--url", url, "--quiet", "--replace"]) == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.import_log)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(schema.users)).scalar_one() == 1  # users are kept
    trail = audit_trail(engine, ADMIN)
    assert trail.iloc[0]["action"] == "demo_regenerated" and trail.iloc[0]["username"] == "system"
    assert "user_added" in set(trail["action"])  # the trail outlives the regeneration
    engine.dispose()
