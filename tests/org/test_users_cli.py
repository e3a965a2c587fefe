"""``flask users create | list | set-password`` through the CLI runner."""

from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.extensions import db


def _user(username: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_create_grid_worker_with_villages(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "wgy_zhang",
            "--name",
            "张网格（虚构）",
            "--role",
            "grid_worker",
            "--town",
            "北和镇",
            "--village",
            "北和社区",
            "--village",
            "鹅感村",
            "--phone",
            "13900001111",
            "--password",
            "Strong-lantern-pass-71",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "已创建用户 wgy_zhang（张网格（虚构），网格员）" in result.output
    user = _user("wgy_zhang")
    assert user.town_id == world.town.id
    assert sorted(v.name for v in user.villages) == ["北和社区", "鹅感村"]
    assert user.check_password("Strong-lantern-pass-71") and user.phone == "13900001111"


def test_create_admin_with_prompted_password(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "admin2",
            "--name",
            "新管理员",
            "--role",
            "admin",
            "--town",
            "北和镇",
        ],
        input="prompted-pass-9\nprompted-pass-9\n",
    )
    assert result.exit_code == 0, result.output
    assert "prompted-pass-9" not in result.output  # hidden input
    assert _user("admin2").check_password("prompted-pass-9")


def test_create_handler_needs_a_unit_of_the_town(runner, world):
    args = [
        "users",
        "create",
        "--username",
        "cbr",
        "--name",
        "承办人丙",
        "--role",
        "handler",
        "--town",
        "北和镇",
        "--password",
        "Strong-lantern-pass-71",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "承办人必须属于一个承办单位" in result.output
    result = runner.invoke(args=args + ["--unit", "不存在的所"])
    assert result.exit_code == 1 and "北和镇没有名为“不存在的所”的单位" in result.output
    result = runner.invoke(args=args + ["--unit", "司法所"])
    assert result.exit_code == 0, result.output
    assert _user("cbr").unit_id == world.unit_sf.id


def test_create_refusals(runner, world):
    base = [
        "users",
        "create",
        "--name",
        "某人",
        "--role",
        "supervisor",
        "--password",
        "Strong-lantern-pass-71",
    ]
    result = runner.invoke(args=base + ["--username", "grid1", "--town", "北和镇"])
    assert result.exit_code == 1 and "用户名已存在" in result.output
    result = runner.invoke(args=base + ["--username", "x1", "--town", "东海镇"])
    assert (
        result.exit_code == 1
        and "没有名为“东海镇”的乡镇" in result.output
        and "北和镇" in result.output
    )
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "x2",
            "--name",
            "某人",
            "--role",
            "supervisor",
            "--town",
            "北和镇",
            "--password",
            "short",
        ]
    )
    assert result.exit_code == 1 and "密码至少需要 10 个字符" in result.output
    result = runner.invoke(args=base + ["--username", "x3"])
    assert result.exit_code == 1 and "--town" in result.output
    assert _user("x1") is None and _user("x2") is None and _user("x3") is None


def test_create_county_user(runner, world):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "county1",
            "--name",
            "县信访局",
            "--role",
            "county",
            "--county-code",
            "440882",
            "--password",
            "Strong-lantern-pass-71",
        ]
    )
    assert result.exit_code == 0, result.output
    user = _user("county1")
    assert (user.town_id, user.county_code, user.role) == (None, "440882", "county")
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "county2",
            "--name",
            "x",
            "--role",
            "county",
            "--county-code",
            "999999",
            "--password",
            "Strong-lantern-pass-71",
        ]
    )
    assert result.exit_code == 1 and "没有乡镇属于该县级区划代码" in result.output


def test_list_users(runner, world):
    result = runner.invoke(args=["users", "list", "--town", "北和镇", "--role", "grid_worker"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1] == "共 2 个用户"
    assert lines[0].split("\t") == ["grid1", "网格员甲", "网格员", "北和镇", "北和社区", "正常"]
    result = runner.invoke(args=["users", "list"])
    assert "other_super" in result.output and "共 8 个用户" in result.output


def test_set_password_ends_sessions(runner, world, client, auth):
    auth.login("leader")
    assert client.get("/cases").status_code == 200
    result = runner.invoke(
        args=["users", "set-password", "--username", "leader"],
        input="Fresh-harbour-kite-77\nFresh-harbour-kite-77\n",
    )
    assert result.exit_code == 0, result.output
    assert "已为 leader 设置新密码" in result.output
    assert client.get("/cases").status_code == 302  # the open session ended
    assert auth.login("leader", "Fresh-harbour-kite-77").status_code == 302
    assert not _user("leader").must_change_password  # the operator's reset: no forced change
    result = runner.invoke(
        args=["users", "set-password", "--username", "nobody", "--password", "Fresh-harbour-kite-77"]
    )
    assert result.exit_code == 1 and "用户 nobody 不存在" in result.output
    result = runner.invoke(
        args=["users", "set-password", "--username", "leader", "--password", "short"]
    )
    assert result.exit_code == 1 and "密码至少需要 10 个字符" in result.output


def test_towns_create_with_villages_and_units(app, runner, tmp_path):
    from sqlalchemy import func, select

    from casetrack.extensions import db
    from casetrack.org.models import Town, Unit, Village

    csv_file = tmp_path / "villages.csv"
    csv_file.write_text("name,kind\n南兴社区,社区\n东村,行政村\n", encoding="utf-8")
    args = ["towns", "create", "--name", "南兴镇", "--petition-code", "南兴信",
            "--dispute-code", "南兴调", "--county-code", "440882", "--villages", str(csv_file),
            "--unit", "综治办", "--unit", "信访办"]
    dry = runner.invoke(args=[*args, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert db.session.scalar(select(func.count()).select_from(Town)) == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    town = db.session.scalar(select(Town).where(Town.name == "南兴镇"))
    assert [v.name for v in db.session.scalars(select(Village).where(Village.town_id == town.id)
                                               .order_by(Village.sort_order))] == ["南兴社区", "东村"]
    assert db.session.scalar(select(func.count()).select_from(Unit)) == 2
    again = runner.invoke(args=args)
    assert again.exit_code != 0 and "已有同名的乡镇" in again.output
    # a town whose user can then be created
    user = runner.invoke(args=["users", "create", "--username", "nx_admin", "--name", "管理员",
                               "--role", "admin", "--town", "南兴镇", "--password", "Orchid-valley-ladder-123"])
    assert user.exit_code == 0, user.output
