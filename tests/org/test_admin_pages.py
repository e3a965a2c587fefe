"""Admin pages for villages, units and users: CRUD through the client, validation in
Chinese, scoping to the admin's town, and 403 for everybody else."""

import pytest
from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.extensions import db
from casetrack.org.models import Unit, Village


@pytest.fixture
def admin_client(client, auth, world):
    assert auth.login("admin").status_code == 302
    return client


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def test_dashboard_links_and_counts(admin_client, world):
    html = _html(admin_client.get("/admin/"))
    for url in ("/admin/villages", "/admin/units", "/admin/users", "/admin/calendar/"):
        assert f'href="{url}"' in html
    assert '<div class="num">2</div>' in html  # two villages
    assert '<div class="num">7</div>' in html  # seven users of 北和镇
    assert "南兴社区" not in html


PAGES = ["/admin/", "/admin/villages", "/admin/units", "/admin/users", "/admin/users/new"]


@pytest.mark.parametrize("username", ["super", "leader", "handler1", "grid1", "other_super"])
def test_non_admins_get_403(client, auth, world, username):
    auth.login(username)
    for url in PAGES + [f"/admin/users/{world.grid1.id}"]:
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/villages", data={"name": "新村"}).status_code == 403
    assert (
        client.post(
            f"/admin/users/{world.grid1.id}/password", data={"password": "Hijacked-lantern-river-99"}
        ).status_code
        == 403
    )
    assert db.session.scalar(select(Village).where(Village.name == "新村")) is None


def test_anonymous_is_sent_to_login(client, world):
    resp = client.get("/admin/users")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_villages_add_rename_sort_deactivate(admin_client, world):
    resp = admin_client.post("/admin/villages", data={"name": "新安村", "kind": "行政村"})
    assert resp.status_code == 302
    village = db.session.scalar(select(Village).where(Village.name == "新安村"))
    assert village.town_id == world.town.id and village.sort_order == 2
    resp = admin_client.post("/admin/villages", data={"name": "北和社区", "kind": "社区"})
    assert resp.status_code == 422 and "本镇已有同名的村（社区）" in _html(resp)
    # same name in another town is fine for that town, but this admin cannot touch it
    other = world.other_town.villages[0]
    assert admin_client.post(f"/admin/villages/{other.id}", data={"name": "x"}).status_code == 404
    resp = admin_client.post(
        f"/admin/villages/{village.id}",
        data={"name": "新安社区", "kind": "社区", "sort_order": "-1"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert (village.name, village.kind, village.sort_order) == ("新安社区", "社区", -1)
    html = _html(admin_client.get("/admin/villages"))
    assert html.index("新安社区") < html.index("北和社区")  # sorted first now
    resp = admin_client.post(
        f"/admin/villages/{village.id}", data={"name": "新安社区", "sort_order": "一"}
    )
    assert resp.status_code == 422 and "排序应为整数" in _html(resp)
    resp = admin_client.post(f"/admin/villages/{village.id}", data={"name": "  "})
    assert resp.status_code == 422 and "请填写村（社区）名称" in _html(resp)
    assert (
        admin_client.post(f"/admin/villages/{village.id}/active", data={"active": "0"}).status_code
        == 302
    )
    db.session.expire_all()
    assert village.is_active is False
    assert "已停用" in _html(admin_client.get("/admin/villages"))
    admin_client.post(f"/admin/villages/{village.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert village.is_active is True


def test_units_add_rename_deactivate(admin_client, world):
    assert admin_client.post("/admin/units", data={"name": "派出所"}).status_code == 302
    unit = db.session.scalar(
        select(Unit).where(Unit.name == "派出所", Unit.town_id == world.town.id)
    )
    resp = admin_client.post("/admin/units", data={"name": "综治办"})
    assert resp.status_code == 422 and "本镇已有同名的单位" in _html(resp)
    resp = admin_client.post(f"/admin/units/{unit.id}", data={"name": "信访办"})
    assert resp.status_code == 422 and "本镇已有同名的单位" in _html(resp)
    assert (
        admin_client.post(
            f"/admin/units/{unit.id}", data={"name": "雷州市公安局北和派出所"}
        ).status_code
        == 302
    )
    assert (
        admin_client.post(f"/admin/units/{unit.id}/active", data={"active": "0"}).status_code == 302
    )
    db.session.expire_all()
    assert (unit.name, unit.is_active) == ("雷州市公安局北和派出所", False)
    html = _html(admin_client.get("/admin/units"))
    assert "雷州市公安局北和派出所" in html and "已停用" in html
    other_unit = world.other_town.units[0]
    assert (
        admin_client.post(f"/admin/units/{other_unit.id}/active", data={"active": "0"}).status_code
        == 404
    )
    # a deactivated unit is not offered for new handlers
    assert "雷州市公安局北和派出所" not in _html(admin_client.get("/admin/users/new"))


def _new_user(**kw):
    data = {
        "username": "grid3",
        "name": "网格员丙",
        "role": "grid_worker",
        "phone": "13800138000",
        "email": "grid3@example.org",
        "password": "Init-lantern-river-61",
    }
    data.update(kw)
    return data


def test_create_grid_worker_who_can_log_in(admin_client, world, client, auth):
    resp = admin_client.post(
        "/admin/users/new", data={**_new_user(), "village_ids": [str(world.v2.id)]}
    )
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "grid3"))
    assert user.town_id == world.town.id and [v.name for v in user.villages] == ["鹅感村"]
    assert user.unit_id is None and user.check_password("Init-lantern-river-61")
    auth.logout()
    assert auth.login("grid3", "Init-lantern-river-61").status_code == 302


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"username": "grid1"}, "用户名已存在"),
        ({"username": "GRID1"}, "用户名已存在"),
        ({"username": "张三"}, "用户名应为2至64位字母"),
        ({"password": "short7!"}, "密码至少需要 10 个字符"),
        ({}, "网格员至少要负责本镇的一个村（社区）"),
        ({"role": "handler"}, "承办人必须属于一个承办单位"),
        ({"role": "county"}, "请选择有效的角色"),
        ({"name": ""}, "请填写姓名"),
        ({"phone": "12345"}, "电话号码应为11位手机号码"),
        ({"email": "not-an-address"}, "电子邮箱格式不正确"),
    ],
)
def test_create_user_validation(admin_client, world, overrides, message):
    resp = admin_client.post("/admin/users/new", data=_new_user(**overrides))
    assert resp.status_code == 422
    assert message in _html(resp)
    assert db.session.scalar(select(User).where(User.name == "网格员丙")) is None


def test_villages_and_units_of_another_town_are_refused(admin_client, world):
    other_village = world.other_town.villages[0]
    other_unit = world.other_town.units[0]
    resp = admin_client.post(
        "/admin/users/new", data={**_new_user(), "village_ids": [str(other_village.id)]}
    )
    assert resp.status_code == 422 and "所选村（社区）不属于本镇" in _html(resp)
    resp = admin_client.post(
        "/admin/users/new", data={**_new_user(role="handler"), "unit_id": str(other_unit.id)}
    )
    assert resp.status_code == 422 and "单位不属于本镇" in _html(resp)


def test_edit_user_role_unit_and_villages(admin_client, world):
    grid1 = world.grid1
    resp = admin_client.post(
        f"/admin/users/{grid1.id}",
        data={
            "name": "网格员甲（已调岗）",
            "role": "handler",
            "unit_id": str(world.unit_zz.id),
            "village_ids": [str(world.v1.id)],
            "phone": "",
            "email": "",
        },
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert (grid1.role, grid1.unit_id, grid1.villages) == ("handler", world.unit_zz.id, [])
    assert grid1.name == "网格员甲（已调岗）" and grid1.username == "grid1"
    # the admin cannot demote themself
    resp = admin_client.post(
        f"/admin/users/{world.admin.id}", data={"name": "管理员", "role": "leader"}
    )
    assert resp.status_code == 422 and "不能修改自己的角色" in _html(resp)
    # users of another town do not exist for this admin
    assert admin_client.get(f"/admin/users/{world.other_super.id}").status_code == 404
    assert (
        admin_client.post(
            f"/admin/users/{world.other_super.id}/enabled", data={"enabled": "0"}
        ).status_code
        == 404
    )


def test_list_filters_by_role_and_search(admin_client, world):
    html = _html(admin_client.get("/admin/users?role=grid_worker"))
    assert "grid1" in html and "grid2" in html and "handler1" not in html
    assert "共 2 人" in html
    html = _html(admin_client.get("/admin/users?q=承办人"))
    assert "handler1" in html and "handler2" in html and "grid1" not in html
    html = _html(admin_client.get("/admin/users"))
    assert "other_super" not in html and "共 7 人" in html


def test_reset_password_and_disable(admin_client, world, client, auth):
    uid = world.handler1.id
    resp = admin_client.post(f"/admin/users/{uid}/password", data={"password": "1234567"})
    assert resp.status_code == 422 and "密码至少需要 10 个字符" in _html(resp)
    assert (
        admin_client.post(
            f"/admin/users/{uid}/password", data={"password": "Fresh-harbour-kite-88"}
        ).status_code
        == 302
    )
    assert (
        admin_client.post(f"/admin/users/{uid}/enabled", data={"enabled": "0"}).status_code == 302
    )
    resp = admin_client.post(f"/admin/users/{world.admin.id}/enabled", data={"enabled": "0"})
    assert resp.status_code == 422 and "不能停用自己的账号" in _html(resp)
    assert "已停用" in _html(admin_client.get("/admin/users?role=handler"))
    auth.logout()
    assert auth.login("handler1", "Fresh-harbour-kite-88").status_code == 401
    auth.login("admin")
    admin_client.post(f"/admin/users/{uid}/enabled", data={"enabled": "1"})
    auth.logout()
    assert auth.login("handler1", "pass-1234").status_code == 401
    assert auth.login("handler1", "Fresh-harbour-kite-88").status_code == 302


def test_no_per_account_lock_is_offered(admin_client, world, app):
    """Login throttling is Flask-Limiter's (per address, and per address and username): the
    old per-account lock, its state and its 解除锁定 button are gone."""
    uid = world.handler1.id
    html = _html(admin_client.get(f"/admin/users/{uid}"))
    assert "解除锁定" not in html and "登录锁定" not in html and "/unlock" not in html
    assert "已锁定" not in _html(admin_client.get("/admin/users"))
    assert admin_client.post(f"/admin/users/{uid}/unlock").status_code == 404
    assert not any(rule.rule.endswith("/unlock") for rule in app.url_map.iter_rules())
