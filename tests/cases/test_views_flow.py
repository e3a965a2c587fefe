"""Whole lifecycles through HTTP, refusals in Chinese, ID views, attachments and CSRF."""

from __future__ import annotations

import datetime as dt
import io
import re

from sqlalchemy import func, select
from views_support import ID_ZHANG, login_as, make_dispute, make_petition, text

from casetrack import create_app
from casetrack.cases.models import Attachment, Case, CaseEvent, IdNumberView
from casetrack.extensions import db


def _timeline(html: str) -> str:
    """The timeline section of a detail page."""
    return html.split('id="timeline"', 1)[1]


def _actions(html: str) -> set[str]:
    """The step endpoints offered as forms on a detail page."""
    return set(re.findall(r'action="/cases/\d+/([a-z-]+)"', html)) - {"attachments"}


def _ok(resp) -> None:
    assert resp.status_code == 302, text(resp)


def test_petition_flow_through_http(client, world):
    login_as(client, "super")
    _ok(client.post("/cases/new?kind=petition", data={
        "kind": "petition", "title": "反映村道破损（虚构）", "source": "assigned",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-20", "external_ref": "雷信交〔2026〕101号",
        "external_due_on": "2027-01-05", "external_authority": "雷州市信访局",
        "parties-0-role": "petitioner", "parties-0-name": "张三（虚构）",
        "parties-0-id_number": ID_ZHANG, "submit": "1"}))
    case = db.session.scalar(select(Case))
    url = f"/cases/{case.id}"
    page = text(client.get(url))
    assert {"accept", "reject", "return"} <= _actions(page)
    assert "close" not in _actions(page) and "assign" not in _actions(page)

    _ok(client.post(f"{url}/accept", data={"accepted_on": "2026-11-23"}))
    page = text(client.get(url))
    assert "2027-01-05" in page and "上级期限" in page  # the city's date is earlier
    _ok(client.post(f"{url}/assign", data={"unit_id": str(world.unit_xf.id),
                                           "handler_id": str(world.handler1.id),
                                           "note": "请尽快核实"}))
    login_as(client, "handler1")
    page = text(client.get(url))
    assert {"progress", "extend-request", "reply"} <= _actions(page)
    assert "accept" not in _actions(page) and "close" not in _actions(page)
    _ok(client.post(f"{url}/progress", data={"note": "已到现场查看，联系公路站"}))
    _ok(client.post(f"{url}/extend-request", data={"days": "20", "reason": "需等待施工队排期"}))
    assert "extend-request" not in _actions(text(client.get(url)))

    login_as(client, "leader")
    page = text(client.get(url))
    assert _actions(page) == {"extend-decide", "progress"}
    _ok(client.post(f"{url}/extend-decide", data={"decision": "approve", "note": "同意"}))

    login_as(client, "handler1")
    _ok(client.post(f"{url}/reply", data={"outcome": "支持", "reply_text": "道路已修复",
                                          "delivered_on": "2026-11-23"}))
    login_as(client, "super")
    _ok(client.post(f"{url}/close", data={"rating": "满意"}))

    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "closed" and case.rating == "满意" and case.extension_days == 20
    assert [e.action for e in case.events] == [
        "register", "accept", "assign", "progress", "extend_request", "extend_decide",
        "reply", "close"]
    timeline = _timeline(text(client.get(url)))
    for snippet in (
        "登记", "受理", "已登记 → 已受理", "受理日期：— → 2026-11-23",
        "交办承办单位", "已受理 → 办理中", "承办单位：— → 信访办", "承办人：— → 承办人甲",
        "交办给 信访办、承办人甲", "记录办理进展", "已到现场查看，联系公路站",
        "申请延期", "延期状态：未申请 → 待审批", "需等待施工队排期",
        "审批延期", "延期状态：待审批 → 已批准", "法定期限：2027-01-22 → 2027-02-11",
        "答复", "办理中 → 已答复", "处理意见：— → 支持", "道路已修复",
        "办结", "已答复 → 已办结", "信访人评价：— → 满意",
        "督办员", "承办人甲", "镇领导", "2026-11-23 10:00",
    ):
        assert snippet in timeline, snippet


def test_dispute_flow_as_grid_worker(client, world):
    login_as(client, "grid1")
    _ok(client.post("/cases/new?kind=dispute", data={
        "kind": "dispute", "title": "邻里排水纠纷（虚构）", "source": "screening",
        "category": "邻里", "village_id": str(world.v1.id), "received_on": "2026-11-22",
        "parties-0-role": "applicant", "parties-0-name": "王五（虚构）",
        "parties-1-role": "respondent", "parties-1-name": "赵六（虚构）", "submit": "1"}))
    case = db.session.scalar(select(Case))
    url = f"/cases/{case.id}"
    _ok(client.post(f"{url}/start-mediation", data={"level": "village", "note": "双方同意调解"}))
    _ok(client.post(f"{url}/mediation-session", data={
        "held_on": "2026-11-23", "note": "村调委会组织双方协商，未达成一致"}))
    _ok(client.post(f"{url}/escalate", data={"reason": "村级调解未果，申请镇综治中心调解"}))
    assert "escalate" not in _actions(text(client.get(url)))  # already at town level

    login_as(client, "super")
    _ok(client.post(f"{url}/resolve", data={"agreement_type": "written",
                                            "agreement_text": "赵六三日内疏通排水沟"}))
    login_as(client, "grid1")
    page = text(client.get(url))
    assert "follow-up" in _actions(page) and "close" not in _actions(page)  # visit first
    _ok(client.post(f"{url}/follow-up", data={"visited_on": "2026-11-23", "honoured": "yes",
                                              "note": "排水沟已疏通"}))
    _ok(client.post(f"{url}/close", data={"note": "协议已履行"}))

    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert case.status == "closed" and case.resolution_level == "town"
    page = text(client.get(url))
    assert "镇综治中心/司法所" in page
    timeline = _timeline(page)
    for snippet in (
        "开始调解", "已登记 → 调解中", "调解层级：— → 村调委会",
        "记录调解", "2026-11-23 村调委会调解：村调委会组织双方协商，未达成一致",
        "上交镇级调解", "调解层级：村调委会 → 镇综治中心/司法所", "申请镇综治中心调解",
        "调解成功", "调解中 → 调解成功", "协议形式：— → 书面调解协议书",
        "化解层级：— → 镇综治中心/司法所", "赵六三日内疏通排水沟",
        "回访", "回访日期：— → 2026-11-23", "协议履行：— → 是",
        "结案", "调解成功 → 已办结", "网格员甲", "督办员",
    ):
        assert snippet in timeline, snippet


def test_closing_a_never_accepted_case_is_refused(client, world, now):
    case = make_petition(world, now)
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/close", data={"rating": "满意"})
    assert resp.status_code == 409
    assert "案件当前状态为“已登记”，不能执行“办结”" in text(resp)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "registered"


def test_second_extension_is_refused(client, world, now):
    case = make_petition(world, now)
    login_as(client, "super")
    _ok(client.post(f"/cases/{case.id}/accept", data={}))
    _ok(client.post(f"/cases/{case.id}/assign", data={"unit_id": str(world.unit_xf.id)}))
    _ok(client.post(f"/cases/{case.id}/extend-request", data={"days": "10", "reason": "勘查"}))
    login_as(client, "leader")
    _ok(client.post(f"/cases/{case.id}/extend-decide", data={"decision": "approve"}))
    login_as(client, "handler1")
    assert "extend-request" not in _actions(text(client.get(f"/cases/{case.id}")))
    resp = client.post(f"/cases/{case.id}/extend-request", data={"days": "5", "reason": "再延"})
    assert resp.status_code == 409
    assert "该案件已经延期一次，不能再次延期" in text(resp)
    # more than 30 days is refused with the field's message
    other = make_petition(world, now, title="另一件")
    login_as(client, "super")
    _ok(client.post(f"/cases/{other.id}/accept", data={}))
    resp = client.post(f"/cases/{other.id}/extend-request", data={"days": "31", "reason": "久"})
    assert resp.status_code == 422 and "延期天数应在1至30天之间" in text(resp)


def test_return_after_five_working_days_is_refused(client, world, now):
    late = make_petition(world, now, received_on=dt.date(2026, 11, 10))
    fresh = make_petition(world, now, received_on=dt.date(2026, 11, 20), title="新交办")
    login_as(client, "super")
    assert "return" not in _actions(text(client.get(f"/cases/{late.id}")))
    resp = client.post(f"/cases/{late.id}/return", data={"reason": "不属于本镇职责"})
    assert resp.status_code == 409
    assert "已超过收到后5个工作日的退回期限（2026-11-17），不能退回" in text(resp)
    page = text(client.get(f"/cases/{fresh.id}"))
    assert "return" in _actions(page) and "2026-11-27" in page
    _ok(client.post(f"/cases/{fresh.id}/return", data={"reason": "不属于本镇职责"}))
    resp = client.post(f"/cases/{fresh.id}/return", data={"reason": ""})
    assert resp.status_code == 409


def test_missing_reason_shows_field_error(client, world, now):
    case = make_petition(world, now)
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/reject", data={"reason": "  "})
    assert resp.status_code == 422
    html = text(resp)
    assert "不予受理须填写理由" in html
    assert re.search(r'<details class="action" id="action-reject" open>', html)


def test_grid_worker_acting_on_other_village_gets_404(client, world, now):
    case = make_dispute(world, now)  # village v1
    login_as(client, "grid2")
    assert client.get(f"/cases/{case.id}").status_code == 404
    resp = client.post(f"/cases/{case.id}/start-mediation", data={"level": "village"})
    assert resp.status_code == 404 and "案件不存在或您无权查看" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 1


def test_forbidden_step_on_visible_case_is_403(client, world, now):
    case = make_petition(world, now)
    login_as(client, "grid1")  # the petition is in the worker's village: visible
    page = text(client.get(f"/cases/{case.id}"))
    assert _actions(page) == set()
    resp = client.post(f"/cases/{case.id}/accept", data={})
    assert resp.status_code == 403 and "您没有执行此操作的权限" in text(resp)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "registered"


def test_full_id_number_for_supervisor_only_and_logged(client, world, now):
    case = make_petition(world, now)
    party = case.parties[0]
    masked = "440882********0013"
    login_as(client, "super")
    page = text(client.get(f"/cases/{case.id}"))
    assert masked in page and ID_ZHANG not in page and "查看完整身份证号" in page
    resp = client.post(f"/cases/{case.id}/parties/{party.id}/id-number")
    assert resp.status_code == 200 and ID_ZHANG in text(resp)
    assert resp.headers["Cache-Control"] == "no-store"
    views = db.session.scalars(select(IdNumberView)).all()
    assert [(v.user_id, v.party_id, v.channel) for v in views] == [
        (world.supervisor.id, party.id, "web")]
    assert ID_ZHANG not in text(client.get(f"/cases/{case.id}"))  # only on that response

    login_as(client, "grid1")
    page = text(client.get(f"/cases/{case.id}"))
    assert masked in page and "查看完整身份证号" not in page
    resp = client.post(f"/cases/{case.id}/parties/{party.id}/id-number")
    assert resp.status_code == 403
    assert ID_ZHANG not in text(resp) and masked in text(resp)
    assert "您无权查看完整身份证号码" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(IdNumberView)) == 1


def test_attachment_upload_and_download(client, world, now, app):
    case = make_dispute(world, now)
    login_as(client, "grid1")
    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO("调解记录（虚构）".encode()), "调解记录.txt")},
        content_type="multipart/form-data")
    _ok(resp)
    att = db.session.scalar(select(Attachment))
    page = text(client.get(f"/cases/{case.id}"))
    assert "调解记录.txt" in page and "上传附件 调解记录.txt" in _timeline(page)

    resp = client.get(f"/attachments/{att.id}")
    assert resp.status_code == 200
    assert resp.data == "调解记录（虚构）".encode()
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f'filename="attachment-{att.id}.txt"' in disposition
    assert "filename*=UTF-8''%E8%B0%83%E8%A7%A3%E8%AE%B0%E5%BD%95.txt" in disposition
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Type"].startswith("text/plain")
    resp.close()

    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO(b"<script>"), "page.html")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "不支持的文件类型" in text(resp)
    resp = client.post(f"/cases/{case.id}/attachments", data={},
                       content_type="multipart/form-data")
    assert resp.status_code == 422 and "请选择要上传的文件" in text(resp)

    login_as(client, "grid2")
    assert client.get(f"/attachments/{att.id}").status_code == 404
    login_as(client, "leader")  # sees the case but has no right to attach
    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO(b"x"), "a.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 403
    assert client.get("/attachments/999999").status_code == 404


def test_post_without_csrf_token_is_rejected(database_url, world, now, tmp_path):
    case_id = make_petition(world, now).id
    db.session.remove()  # SQLite: a second app writes to the same file
    app = create_app({
        "TESTING": True, "SECRET_KEY": "csrf-test", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True, "UPLOAD_FOLDER": str(tmp_path), "FIXED_NOW": now,
    })
    try:
        with app.app_context():
            client = app.test_client()
            login_page = text(client.get("/login"))
            token = re.search(r'name="csrf_token" value="([^"]+)"', login_page).group(1)
            assert client.post("/login", data={"username": "super", "password": "pass-1234"}
                               ).status_code == 400
            resp = client.post("/login", data={"username": "super", "password": "pass-1234",
                                               "csrf_token": token})
            assert resp.status_code == 302
            assert client.post(f"/cases/{case_id}/accept", data={}).status_code == 400
            page = text(client.get(f"/cases/{case_id}"))
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            resp = client.post(f"/cases/{case_id}/accept", data={"csrf_token": token})
            assert resp.status_code == 302
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()
