"""The case list says every filter it cannot apply (400), as it says an unknown status: a
menu value that is none of the menu's, dates the wrong way round, a page past the end."""

from __future__ import annotations

import datetime as dt

from views_support import case_numbers, login_as, make_dispute, make_petition, text


def test_an_unknown_menu_value_is_said_and_the_export_refused(client, world, now):
    dispute = make_dispute(world, now)
    petition = make_petition(world, now)
    login_as(client, "super")
    for arg, field in (("kind=bogus", "类型“bogus”"), ("village_id=abc", "村（居）“abc”"),
                       ("unit_id=-3", "承办单位“-3”"), ("source=nowhere", "来源“nowhere”"),
                       ("category=不存在", "内容分类“不存在”"), ("warning=blue", "预警“blue”")):
        resp = client.get(f"/cases?{arg}")
        page = text(resp)
        assert resp.status_code == 400, arg
        assert f"{field}无效，本次未按该条件筛选" in page, arg
        # the filter is left out, said: both cases listed
        assert case_numbers(page) == {dispute.number, petition.number}, arg
        assert "/reports/ledger.xlsx" not in page
        resp = client.get(f"/reports/ledger.xlsx?{arg}")
        assert resp.status_code == 303 and "/cases?" in resp.location, arg
    # the other filters still apply
    page = text(client.get("/cases?kind=dispute&village_id=abc"))
    assert case_numbers(page) == {dispute.number}
    ok = client.get(f"/cases?kind=petition&village_id={world.v1.id}")
    assert ok.status_code == 200 and case_numbers(text(ok)) == {petition.number}
    # another town's village is no village of this list: 404 as before
    assert client.get(f"/cases?village_id={world.other_town.villages[0].id}").status_code == 404


def test_dates_the_wrong_way_round_are_said_not_an_empty_list(client, world, now):
    early = make_dispute(world, now, received_on=dt.date(2026, 11, 2))
    late = make_dispute(world, now, title="另一纠纷（虚构）", received_on=dt.date(2026, 11, 21))
    login_as(client, "super")
    resp = client.get("/cases?received_from=2026-11-20&received_to=2026-11-01")
    page = text(resp)
    assert resp.status_code == 400
    assert "收到日期自（2026-11-20）晚于收到日期至（2026-11-01），本次未按收到日期筛选" in page
    assert case_numbers(page) == {early.number, late.number}
    resp = client.get("/reports/ledger.csv?received_from=2026-11-20&received_to=2026-11-01")
    assert resp.status_code == 303
    ok = client.get("/cases?received_from=2026-11-20&received_to=2026-11-30")
    assert ok.status_code == 200 and case_numbers(text(ok)) == {late.number}


def test_a_page_past_the_end_shows_the_last_page_and_says_so(client, world, now):
    made = [make_dispute(world, now, title=f"纠纷{n}（虚构）") for n in range(23)]
    login_as(client, "super")
    for number in (3, 999999):
        resp = client.get(f"/cases?page={number}")
        page = text(resp)
        assert resp.status_code == 400, number
        assert f"第 {number} 页超出列表范围（共 2 页），本次显示最后一页" in page
        assert "共 23 件" in page and "第 2 / 2 页" in page
        assert len(case_numbers(page)) == 3
    page = text(client.get("/cases?page=2"))
    assert "超出列表范围" not in page and len(case_numbers(page)) == 3
    assert len(made) == 23


def test_a_page_size_or_order_the_list_does_not_offer_is_said(client, world, now):
    make_dispute(world, now)
    login_as(client, "super")
    resp = client.get("/cases?per_page=7")
    assert resp.status_code == 400
    assert "每页“7”件无效（可选 20、50、100），本次每页 20 件" in text(resp)
    resp = client.get("/cases?sort=sideways")
    assert resp.status_code == 400 and "排序方式“sideways”无效，本次按默认顺序排列" in text(resp)
    # neither changes the export, which stays offered
    assert "/reports/ledger.xlsx" in text(resp)
    assert client.get("/cases?per_page=50").status_code == 200


def test_a_work_queue_page_past_the_end_shows_the_last_page(client, world, now):
    for n in range(3):
        make_dispute(world, now, title=f"纠纷{n}（虚构）")
    login_as(client, "super")
    from casetrack.cases import queues

    key = next(iter(queues.QUEUES))
    first = client.get(f"/work/{key}")
    assert first.status_code == 200
    resp = client.get(f"/work/{key}?page=50")
    assert resp.status_code == 400
    assert "第 50 页超出列表范围" in text(resp)
    assert case_numbers(text(resp)) == case_numbers(text(first))


def test_the_user_list_says_an_unknown_role_or_a_page_past_the_end(client, world):
    login_as(client, "admin")
    resp = client.get("/admin/users?role=boss")
    page = text(resp)
    assert resp.status_code == 400 and "角色“boss”无效，本次列出全部角色" in page
    assert "网格员甲" in page and "督办员" in page
    resp = client.get("/admin/users?page=9")
    assert resp.status_code == 400
    assert "第 9 页超出列表范围（共 1 页），本次显示最后一页" in text(resp)
    assert "网格员甲" in text(resp)
    assert client.get("/admin/users?role=grid_worker").status_code == 200


def test_an_over_long_bulk_note_is_refused_not_cut(client, world, now):
    from casetrack.cases import services as svc
    from casetrack.cases.models import Case
    from casetrack.extensions import db

    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    login_as(client, "super")
    resp = client.post("/cases/bulk-assign", data={
        "case_id": [str(case.id)], "unit_id": str(world.unit_xf.id), "note": "说" * 501,
        "next": "/cases"})
    assert resp.status_code == 302
    assert "交办说明不能超过500个字符，未交办" in text(client.get(resp.location))
    db.session.expire_all()
    assert db.session.get(Case, case.id).unit_id is None


def test_an_over_long_search_is_said(client, world, now):
    make_dispute(world, now)
    login_as(client, "super")
    resp = client.get("/cases?q=" + "纠" * 101)
    assert resp.status_code == 400
    assert "搜索词超过100个字符，本次只按前100个字符搜索" in text(resp)
    assert client.get("/reports/ledger.csv?q=" + "纠" * 101).status_code == 303
    assert client.get("/cases?q=" + "纠" * 100).status_code == 200
