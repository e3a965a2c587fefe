"""The clocks of the stages of issue 11 (复查, 复核, 司法确认, reply approval) end to end: in the
town's rule table (changed per town, open cases follow), named on the warnings, the case
page and the work queues, and counted in the figures."""

from __future__ import annotations

import datetime as dt
import io
import re

from openpyxl import load_workbook
from views_support import login_as, make_dispute, make_petition, text

from casetrack.auth.tokens import create_token
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db
from casetrack.org.settings import set_setting

D = dt.date
RECEIVED = D(2026, 11, 20)


def _plain(resp) -> str:
    """The page's words: tags dropped, white space folded."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(resp)))


def _section(html: str, key: str) -> str:
    m = re.search(rf'<section class="card queue" id="q-{key}".*?</section>', html, re.S)
    assert m, f"no queue {key}"
    return m.group(0)


def _item(html: str, case: Case) -> str:
    """The queue item (or list row) linking to ``case``."""
    m = re.search(rf'<li class="queue-item[^"]*"><a href="/cases/{case.id}">.*?</li>', html, re.S)
    assert m, f"no item for {case.number}"
    return m.group(0)


def _handling(world, now, title: str, received: dt.date = RECEIVED) -> Case:
    case = make_petition(world, now, title=title, received_on=received)
    svc.accept_case(db.session, world.supervisor, now, case, accepted_on=received)
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id,
                    world.handler1.id)
    return case


def _reviewing(world, now, title: str = "申请复查的事项（虚构）") -> Case:
    case = _handling(world, now, title)
    svc.reply_case(db.session, world.handler1, now, case, "解释说明", "已解释政策",
                   D(2026, 11, 21))
    svc.request_review(db.session, world.supervisor, now, case, D(2026, 11, 22), "不服答复")
    return case


def _reexamining(world, now) -> Case:
    case = _reviewing(world, now, "申请复核的事项（虚构）")
    svc.decide_review(db.session, world.supervisor, now, case, "维持", "维持原答复",
                      D(2026, 11, 22))
    svc.request_reexamination(db.session, world.supervisor, now, case, D(2026, 11, 23),
                              "仍不服")
    return case


def test_warnings_name_the_running_clock_on_list_case_page_and_queues(client, world, now):
    handling = _handling(world, now, "办理中的事项（虚构）")
    reviewing = _reviewing(world, now)
    reexamining = _reexamining(world, now)
    db.session.commit()
    assert (reviewing.due_rule, reviewing.due_on) == ("petition.review_answer", D(2026, 12, 22))
    assert reexamining.due_rule == "petition.recheck_answer"
    login_as(client, "super")

    rows = text(client.get("/cases?status=all"))
    for case, clock in ((handling, "办理期限"), (reviewing, "复查期限"),
                        (reexamining, "复核期限")):
        row = next(line for line in rows.splitlines() if case.title in line)
        assert clock in row, (clock, row)
    page = _plain(client.get(f"/cases/{reviewing.id}"))
    assert "复查期限 2026-12-22" in page and "复查期限 剩余29天" in page

    # the supervisor's (and the leader's) queue of reviews due, each item naming its clock
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "reviews")
    assert "复查期限" in _item(section, reviewing) and "复核期限" in _item(section, reexamining)
    assert f'href="/cases/{handling.id}"' not in section
    login_as(client, "leader")
    html = client.get("/").get_data(as_text=True)
    assert f'href="/cases/{reviewing.id}"' in _section(html, "reviews")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert re.search(r'data-action="reviews" data-count="2" href="/work/reviews"', dashboard)
    # the ledger says which clock each due date belongs to
    ws = load_workbook(io.BytesIO(client.get("/reports/ledger.xlsx?status=all").data)).active
    head = [c.value for c in ws[3]]
    clocks = {row[head.index("事项")]: row[head.index("期限类型")]
              for row in ws.iter_rows(min_row=4, values_only=True)}
    assert clocks[reviewing.title] == "复查期限" and clocks[reexamining.title] == "复核期限"
    assert clocks[handling.title] == "办理期限"
    full = client.get("/work/reviews").get_data(as_text=True)
    assert "复查期限 2026-12-22" in _plain(client.get("/work/reviews"))
    assert f'href="/cases/{reexamining.id}"' in full


def test_leader_approvals_say_what_waits(client, world, now):
    extension = _handling(world, now, "申请延期的事项（虚构）")
    svc.request_extension(db.session, world.handler1, now, extension, 20, "需实地测量")
    set_setting(db.session, world.town.id, "cases.reply_approval", True)
    draft = _handling(world, now, "答复待审批的事项（虚构）")
    svc.submit_reply(db.session, world.handler1, now, draft, "支持", "同意修路")
    db.session.commit()
    login_as(client, "leader")
    html = client.get("/").get_data(as_text=True)
    section = _section(html, "approvals")
    assert '<span class="tag tag-approval">延期申请</span>' in _item(section, extension)
    assert "答复待审批" not in _item(section, extension)
    assert '<span class="tag tag-approval">答复待审批</span>' in _item(section, draft)
    assert "延期申请" not in _item(section, draft)
    # the draft's clock is still the handling clock
    assert "办理期限" in _item(section, draft)
    full = client.get("/work/approvals").get_data(as_text=True)
    assert '<span class="tag tag-approval">答复待审批</span>' in _item(full, draft)


def test_review_clocks_follow_the_towns_rule(client, world, now, runner):
    reviewing = _reviewing(world, now)
    other = make_petition(world, now, title="其他镇的复查（虚构）", actor=world.other_super,
                          village=world.other_town.villages[0])
    db.session.commit()
    login_as(client, "admin")
    page = text(client.get("/admin/calendar/rules"))
    for label in ("复查答复（第35条）", "复核答复（第36条，听证时间不计入）", "申请复查（第35条）",
                  "申请司法确认（人民调解法第33条）", "预警、待办和提醒中显示为“复查期限”",
                  "预警、待办和提醒中显示为“司法确认申请期限”"):
        assert label in page, label

    result = runner.invoke(args=["deadlines", "set-rule", "--town", world.town.name,
                                 "--rule", "petition.review_answer", "--amount", "20"])
    assert result.exit_code == 0, result.output
    case = db.session.get(Case, reviewing.id)
    db.session.refresh(case)
    # the running clock and the date the 按期复查 figure is judged by move together
    assert case.due_on == D(2026, 12, 14)  # 2026-12-12 is a Saturday
    assert case.review_due_on == case.due_on
    assert case.events[-1].action == "recompute_due"
    assert "复查期限 2026-12-14" in _plain(client.get(f"/cases/{case.id}"))
    assert db.session.get(Case, other.id).due_rule == "petition.notify"

    # the window to ask for review is the town's too (here 10 days from the written reply)
    result = runner.invoke(args=["deadlines", "set-rule", "--town", world.town.name,
                                 "--rule", "petition.review_request", "--amount", "10"])
    assert result.exit_code == 0, result.output
    late = _handling(world, now, "逾期申请复查（虚构）", D(2026, 10, 20))
    svc.reply_case(db.session, world.handler1, now, late, "解释说明", "已解释", D(2026, 11, 1))
    db.session.commit()
    login_as(client, "super")
    assert "即 2026-11-11 前" in text(client.get(f"/cases/{late.id}"))
    resp = client.post(f"/cases/{late.id}/request-review",
                       data={"requested_on": "2026-11-20", "reason": "不服"})
    assert resp.status_code == 422 and "2026-11-11" in text(resp)


def test_judicial_confirmation_clock_is_the_towns_and_counted(client, world, now, runner):
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case)
    svc.resolve_dispute(db.session, world.grid1, now, case, "written", "双方同意")
    later = make_dispute(world, now, title="另一起纠纷（虚构）")
    svc.start_mediation(db.session, world.grid1, now, later)
    svc.resolve_dispute(db.session, world.grid1, now, later, "written", "双方同意")
    db.session.commit()
    result = runner.invoke(args=["deadlines", "set-rule", "--town", world.town.name,
                                 "--rule", "dispute.judicial_confirmation", "--amount", "10"])
    assert result.exit_code == 0, result.output
    login_as(client, "grid1")
    page = text(client.get(f"/cases/{case.id}"))
    assert "2026-12-03" in page  # 10 days after the agreement of 2026-11-23
    resp = client.post(f"/cases/{case.id}/judicial-confirmation",
                       data={"applied_on": "2026-11-23", "court": "雷州市人民法院"})
    assert resp.status_code == 302, text(resp)

    result = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to",
                                 "2026-12-31", "--as-of", "2026-11-23", "--json"])
    assert result.exit_code == 0, result.output
    assert '"judicial_confirmations": 1' in result.output
    assert '"resolved": 2' in result.output
    login_as(client, "leader")
    html = client.get("/dashboard?from=2026-01-01&to=2026-11-23&as_of=2026-11-23")
    page = _plain(html)
    assert html.status_code == 200 and "司法确认申请率" in page and "50.0%" in page


def test_after_an_agreement_the_follow_up_clock_runs(client, world, now, runner):
    """调解成功 ends the mediation clock: a dispute waiting for its follow-up visit is warned,
    queued and reminded by the visit's date (回访期限), not by a mediation already done; 按期
    still compares the agreement with the mediation due date."""
    late = make_dispute(world, now, title="调解超期的纠纷（虚构）", received_on=D(2026, 9, 1))
    timely = make_dispute(world, now, title="按期调解的纠纷（虚构）")
    for case in (late, timely):
        svc.start_mediation(db.session, world.grid1, now, case)
        svc.resolve_dispute(db.session, world.grid1, now, case, "written", "双方同意")
    db.session.commit()
    assert late.mediation_due_on == D(2026, 10, 8)  # 2026-10-01 falls in the National Day week
    assert (late.due_rule, late.due_on) == ("dispute.follow_up", D(2026, 12, 23))
    assert late.follow_up_due_on == late.due_on
    assert late.events[-1].changes["due_on"] == ["2026-10-08", "2026-12-23"]

    login_as(client, "super")
    page = _plain(client.get(f"/cases/{late.id}"))
    assert "回访期限 2026-12-23" in page and "回访期限 剩余30天" in page
    assert "调解期限 2026-10-08 · 超期" in page
    assert "调解期限 2026-12-21 · 按期" in _plain(client.get(f"/cases/{timely.id}"))
    assert late.title not in text(client.get("/cases?warning=red"))
    html = client.get("/").get_data(as_text=True)
    assert f'href="/cases/{late.id}"' not in _section(html, "overdue")
    _row, secret = create_token(db.session, world.supervisor, now, "测试")
    db.session.commit()
    body = client.get(f"/api/v1/cases/{late.id}",
                      headers={"Authorization": f"Bearer {secret}"}).json
    data = body.get("data", body)
    assert (data["due_clock"], data["due_on"], data["mediation_due_on"]) == (
        "回访期限", "2026-12-23", "2026-10-08")

    for case in (late, timely):
        svc.record_follow_up(db.session, world.grid1, now, case, D(2026, 11, 23), True)
        svc.close_case(db.session, world.grid1, now, case)
    db.session.commit()
    result = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to",
                                 "2026-12-31", "--as-of", "2026-11-23", "--json"])
    assert result.exit_code == 0, result.output
    assert '"closed": 2' in result.output and '"closed_on_time": 1' in result.output


def test_follow_up_rule_change_moves_the_running_clock(world, now, runner):
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case)
    # an extension of the mediation (10 days) does not carry over to the follow-up visit
    svc.request_extension(db.session, world.grid1, now, case, 10, "双方需再协商")
    svc.decide_extension(db.session, world.leader, now, case, True, "同意")
    svc.resolve_dispute(db.session, world.grid1, now, case, "written", "双方同意")
    db.session.commit()
    assert case.extension_days == 10
    result = runner.invoke(args=["deadlines", "set-rule", "--town", world.town.name,
                                 "--rule", "dispute.follow_up", "--amount", "10"])
    assert result.exit_code == 0, result.output
    case = db.session.get(Case, case.id)
    db.session.refresh(case)
    # 10 days after the agreement of Monday 2026-11-23
    assert (case.due_rule, case.due_on, case.follow_up_due_on) == (
        "dispute.follow_up", D(2026, 12, 3), D(2026, 12, 3))
    assert case.mediation_due_on == D(2026, 12, 31)  # 2026-12-21 plus the 10 days
