"""Forms that prevent mistakes (issue 12 item 3): the repeat check speaks of disputes on a
dispute and is silent without a party; the risk flag says who is alerted and that the police
must be called; the reply box is large; the handling sheet opens in the browser."""

from __future__ import annotations

from test_views_register import _petition_form
from views_support import dispute_form, login_as, make_dispute, make_petition, text

from casetrack.cases import services as svc
from casetrack.extensions import db


def test_repeat_check_on_a_dispute_speaks_of_disputes(client, world, now):
    earlier = make_dispute(world, now, title="第一次排水纠纷")
    login_as(client, "grid1")
    data = dispute_form(world)
    data.pop("submit")
    html = text(client.post("/cases/new?kind=dispute", data={**data, "check": "1"}))
    assert earlier.number in html and "同一纠纷" in html
    assert "重信重访" not in html and "初信初访" not in html
    assert "查询既往纠纷" in html
    fresh = {**data, "check": "1", "parties-0-name": "新人（虚构）", "parties-1-name": "另一人（虚构）"}
    html = text(client.post("/cases/new?kind=dispute", data=fresh))
    assert "未发现该当事人的既往纠纷" in html and "初信初访" not in html


def test_repeat_check_is_silent_without_a_party(client, world, now):
    make_petition(world, now)
    login_as(client, "super")
    data = _petition_form(world, **{"parties-0-name": "", "parties-0-id_number": ""})
    data.pop("submit")
    html = text(client.post("/cases/new?kind=petition", data={**data, "check": "1"}))
    assert "既往案件" not in html and "初信初访" not in html


def test_risk_flag_says_supervisor_is_alerted_and_police_must_be_called(client, world, now):
    case = make_dispute(world, now)
    login_as(client, "grid1")
    html = text(client.get(f"/cases/{case.id}"))
    assert "标记激化风险（通知督办员）" in html
    assert "通知本镇督办员" in html and "打电话报警（110）" in html and "不会替您报警" in html


def test_reply_box_is_large_and_sheet_opens_inline(client, world, now):
    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, world.handler1.id)
    db.session.commit()
    login_as(client, "handler1")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="reply-reply_text"' in html
    reply_box = html[html.index('id="reply-reply_text"') - 200:html.index('id="reply-reply_text"') + 200]
    assert 'rows="10"' in reply_box
    assert 'target="_blank"' in html.split("打印办理单")[0].rsplit("<a", 1)[1]
    resp = client.get(f"/reports/cases/{case.id}/sheet.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("inline;")
