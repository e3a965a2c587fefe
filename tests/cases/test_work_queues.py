"""The work page (我的待办) as each role's home page (issue 12 item 1): the right queues with
their counts, each item a link to its case, scoped like every list of cases."""

from __future__ import annotations

import datetime as dt
import re

from views_support import login_as, make_dispute, make_petition, text

from casetrack.cases import queues as Q
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db

TODAY = dt.date(2026, 11, 23)


def _section(html: str, key: str) -> str:
    m = re.search(rf'<section class="card queue" id="q-{key}".*?</section>', html, re.S)
    assert m, f"no queue {key}"
    return m.group(0)


def _count(html: str, key: str) -> int:
    return int(re.search(r'class="count" data-count="(\d+)"', _section(html, key)).group(1))


def _links(section: str) -> list[int]:
    return [int(x) for x in re.findall(r'href="/cases/(\d+)"', section)]


def _due(case: Case, days: int) -> Case:
    case.due_on = TODAY + dt.timedelta(days=days)
    db.session.commit()
    return case


def test_supervisor_queue(client, world, now):
    registered = make_petition(world, now, title="待受理")
    accepted = make_petition(world, now, title="待交办")
    svc.accept_case(db.session, world.supervisor, now, accepted)
    replied = make_petition(world, now, title="已答复")
    svc.accept_case(db.session, world.supervisor, now, replied)
    svc.assign_case(db.session, world.supervisor, now, replied, world.unit_xf.id, world.handler1.id)
    svc.reply_case(db.session, world.handler1, now, replied, "支持", "已修复", TODAY)
    escalated = make_dispute(world, now, title="上交纠纷")
    svc.start_mediation(db.session, world.grid1, now, escalated, "village", "")
    svc.escalate_dispute(db.session, world.grid1, now, escalated, "村级调解不成")
    db.session.commit()
    _due(accepted, -4)  # overdue
    _due(registered, 1)  # due soon
    make_petition(world, now, title="其他镇的不出现", actor=world.other_super,
                  village=world.other_town.villages[0])
    login_as(client, "super")
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "我的待办" in html
    expect = {"to_accept": [registered.id], "to_assign": [accepted.id],
              "escalated": [escalated.id], "replied": [replied.id],
              "overdue": [accepted.id], "due_soon": [registered.id]}
    for key, ids in expect.items():
        assert _links(_section(html, key)) == ids, key
        assert _count(html, key) == len(ids), key
    assert "其他镇的不出现" not in html
    # every heading is in the page index with its count, and an item opens its case
    assert 'href="#q-to_accept"' in html
    assert client.get(f"/cases/{registered.id}").status_code == 200


def test_handler_queue_is_own_cases_by_due_date_then_unit_unassigned(client, world, now):
    mine_late = make_petition(world, now, title="我的较晚")
    mine_soon = make_petition(world, now, title="我的较急")
    unit_only = make_petition(world, now, title="本单位未指定")
    colleague = make_petition(world, now, title="同事的")
    for c in (mine_late, mine_soon, unit_only, colleague):
        svc.accept_case(db.session, world.supervisor, now, c)
    for c in (mine_late, mine_soon):
        svc.assign_case(db.session, world.supervisor, now, c, world.unit_xf.id, world.handler1.id)
    svc.assign_case(db.session, world.supervisor, now, unit_only, world.unit_xf.id, None)
    svc.assign_case(db.session, world.supervisor, now, colleague, world.unit_sf.id,
                    world.handler2.id)
    db.session.commit()
    _due(mine_late, 30)
    _due(mine_soon, 2)
    login_as(client, "handler1")
    html = client.get("/").get_data(as_text=True)
    assert _links(_section(html, "mine")) == [mine_soon.id, mine_late.id]
    assert _links(_section(html, "unit_unassigned")) == [unit_only.id]
    assert "同事的" not in html
    assert "我的待办 · 信访办" in text(client.get("/")) or world.unit_xf.name in html


def test_leader_queue_approvals_and_overdue_past_threshold(client, world, now):
    pending = make_petition(world, now, title="申请延期")
    svc.accept_case(db.session, world.supervisor, now, pending)
    svc.assign_case(db.session, world.supervisor, now, pending, world.unit_xf.id, world.handler1.id)
    svc.request_extension(db.session, world.handler1, now, pending, 10, "需要现场勘查")
    db.session.commit()
    a_little = _due(make_petition(world, now, title="超期一天"), -1)
    long_over = _due(make_petition(world, now, title="超期五天"), -5)
    login_as(client, "leader")
    html = client.get("/").get_data(as_text=True)
    assert _links(_section(html, "approvals")) == [pending.id]
    # default leader threshold: 3 days overdue
    assert _links(_section(html, "leader_overdue")) == [long_over.id]
    assert a_little.id not in _links(_section(html, "leader_overdue"))
    # deciding removes it from the queue
    svc.decide_extension(db.session, world.leader, now, pending, True, "同意")
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert _count(html, "approvals") == 0 and "暂无" in _section(html, "approvals")


def test_a_new_kind_of_approval_joins_the_leader_queue(client, world, now, monkeypatch):
    """The leader's 待审批 is built so that another approval (replies) can join it."""
    case = make_petition(world, now, title="答复待审批（模拟）")
    monkeypatch.setattr(Q, "APPROVALS", list(Q.APPROVALS))
    Q.register_approval(Q.Approval("test", "测试", lambda: Case.title == "答复待审批（模拟）",
                                     lambda case: case.title == "答复待审批（模拟）"))
    login_as(client, "leader")
    assert _links(_section(client.get("/").get_data(as_text=True), "approvals")) == [case.id]


def test_grid_worker_queue_titled_with_village(client, world, now):
    mine = make_dispute(world, now, title="本村纠纷")
    other = make_dispute(world, now, title="别村纠纷", village=world.v2)
    visit = make_dispute(world, now, title="待回访纠纷")
    svc.start_mediation(db.session, world.grid1, now, visit, "village", "")
    svc.resolve_dispute(db.session, world.grid1, now, visit, "written", "双方同意")
    db.session.commit()
    login_as(client, "grid1")
    html = client.get("/").get_data(as_text=True)
    assert f"我的待办 · {world.v1.name}" in text(client.get("/"))
    assert set(_links(_section(html, "village_disputes"))) == {mine.id, visit.id}
    assert _links(_section(html, "follow_up")) == [visit.id]
    assert other.title not in html


def test_full_queue_page_and_foreign_queue(client, world, now, monkeypatch, app):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    cases = [make_petition(world, now, title=f"待受理{i}") for i in range(3)]
    for i, c in enumerate(cases):
        _due(c, i)
    login_as(client, "super")
    html = client.get("/work/to_accept").get_data(as_text=True)
    assert _links(html.split("<main", 1)[1])[:2] == [cases[0].id, cases[1].id]
    nxt = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert cases[2].id in _links(client.get(nxt).get_data(as_text=True).split("<main", 1)[1])
    # another role's queue is still scoped to the user's cases (the dashboard links to it)
    assert client.get("/work/approvals").status_code == 200
    assert client.get("/work/nothing").status_code == 404


def test_a_queue_longer_than_the_page_shows_its_first_items_and_its_whole_count(
        client, world, now):
    """Ten cases to accept: the heading counts ten, the page shows the first eight (each
    queue's items and capped count read in one statement), and an empty queue counts 0."""
    from sqlalchemy import event

    for i in range(10):
        make_petition(world, now, title=f"待受理{i}")
    login_as(client, "super")
    seen: list[str] = []

    def _seen(conn, cursor, statement, *args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", _seen)
    try:
        html = client.get("/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", _seen)
    section = _section(html, "to_accept")
    assert _count(html, "to_accept") == 10 and len(_links(section)) == 8
    assert _count(html, "to_assign") == 0
    assert len([s for s in seen if "FROM cases" in s]) == len(Q.queues_for(world.supervisor))
