"""Console accounts: the commands, the password hash, the lockout, the scope of each role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner

from secscan.cli import cli
from secscan.collector.db import now
from secscan.collector.users import MAX_FAILED, UserError, Users, hash_password, verify_password
from tests.console.conftest import PASSWORD, District, collector


def test_the_hash_is_scrypt_with_its_parameters_salted_and_checked() -> None:
    a, b = hash_password("một mật khẩu dài"), hash_password("một mật khẩu dài")
    assert a.startswith("scrypt$16384$8$1$") and a != b  # a fresh salt each time
    assert verify_password("một mật khẩu dài", a) and not verify_password("một mật khẩu dài!", a)
    assert not verify_password("x", "md5$abc") and not verify_password("x", "garbage")


def test_scope_of_each_role(district: District) -> None:
    users = Users(district.store().db)
    assert users.scope(users.get("admin-huyen")) is None
    assert users.scope(users.get("canbo-vanlang")) == {"van-lang"}
    assert users.scope(users.get("lanhdao-vanlang")) == {"van-lang"}
    assert users.scope(users.get("canbo-huyen")) == {"hahoa", "hahoa-vp", "hahoa-tckh", "van-lang", "vinh-chan"}


def test_list_never_shows_a_password(district: District) -> None:
    out = collector(district.db, "user", "list").stdout
    assert "canbo-vanlang\tofficer\tvan-lang\tactive" in out
    assert "admin-huyen\tadmin\t*\tactive" in out
    assert "scrypt" not in out


@pytest.mark.parametrize(("args", "error"), [
    (["x1", "--role", "officer"], "an officer needs --unit"),
    (["x2", "--role", "admin", "--unit", "van-lang"], "an admin sees every unit"),
    (["x3", "--role", "viewer", "--unit", "nowhere"], "--unit nowhere: no such unit"),
    (["Bad Name", "--role", "viewer"], "a name is 2-64"),
    (["admin-huyen", "--role", "admin"], "exists already"),
])
def test_a_refused_account_says_why_in_one_line(district: District, args: list[str], error: str) -> None:
    result = CliRunner().invoke(cli, ["collector", "--db", district.db, "user", "add", *args, "--password-stdin"],
                                input=PASSWORD + "\n")
    assert result.exit_code == 1 and error in result.output and len(result.output.strip().splitlines()) == 1


def test_a_short_password_is_refused(district: District) -> None:
    with pytest.raises(UserError, match="at least 10 characters"):
        Users(district.store().db).add("ngan", "viewer", None, "short")


def test_wrong_passwords_lock_the_account_and_passwd_lifts_it(district: District) -> None:
    users = Users(district.store().db)
    users.add("thu-khoa", "viewer", "vinh-chan", PASSWORD)
    for _ in range(MAX_FAILED):
        assert users.authenticate("thu-khoa", "wrong password") is None
    assert users.authenticate("thu-khoa", PASSWORD) is None  # locked: even the right password
    assert users.authenticate("thu-khoa", PASSWORD, at=now() + timedelta(minutes=16)) is not None
    for _ in range(MAX_FAILED):
        users.authenticate("thu-khoa", "wrong password")
    epoch = users.get("thu-khoa").session_epoch
    collector(district.db, "user", "passwd", "thu-khoa", "--password-stdin", stdin="một-mật-khẩu-mới\n")
    assert users.authenticate("thu-khoa", "một-mật-khẩu-mới").session_epoch == epoch + 1
    collector(district.db, "user", "disable", "thu-khoa")
    assert users.authenticate("thu-khoa", "một-mật-khẩu-mới") is None
    assert "thu-khoa\tviewer\tvinh-chan\tdisabled" in collector(district.db, "user", "list").stdout
