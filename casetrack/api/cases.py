"""Cases over the API: list, detail, timeline, register, full ID number, and one endpoint per
lifecycle step. Every handler parses, calls one service of ``cases.services``, commits once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from casetrack.api import case_schemas as cs
from casetrack.api.core import (
    ApiError,
    api_route,
    current_api_user,
    expected_version,
    paginate,
)
from casetrack.api.schema import Boolean, Date, Field, Id, Integer, ListOf, Schema, String
from casetrack.auth.permissions import require_visible
from casetrack.cases import display, rules, services
from casetrack.cases.models import Case, Party
from casetrack.cases.queries import CaseFilters, select_cases
from casetrack.core.errors import NotFound
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db

TAG = "cases"
COMMON_ERRORS = (400, 401, 403, 404, 409, 413, 422)
VERSION = Integer(minimum=1, maximum=2**31 - 1, nullable=True,
                  description="读取时的案件版本号；与当前版本不符时返回 409 stale_write")
IF_MATCH = {"If-Match": String(max_length=20, description="读取时的案件版本号（可代替 version 字段）")}


def _today():
    return local_date(app_now())


def _load(case_id: int) -> Case:
    return require_visible(current_api_user(), db.session.get(Case, case_id))


@api_route("/cases", "GET", summary="案件列表（与页面相同的筛选条件与分页）", tag=TAG,
           response=ListOf(cs.CASE_OUT, max_items=100), query=cs.CASE_LIST_QUERY,
           paginated=True, errors=(400, 401, 422))
def list_cases(query: dict[str, Any]):
    """Cases the user may see, filtered like the case list page, newest received first."""
    user = current_api_user()
    today = _today()
    page, per_page = query.pop("page"), query.pop("per_page")
    filters = CaseFilters(**query)
    stmt = select_cases(user, filters, today, display.yellow_days())
    items, meta = paginate(stmt, page, per_page)
    return [cs.case_summary(c, today) for c in items], meta


@api_route("/cases/<int:case_id>", "GET", summary="案件详情（当事人身份证号脱敏，含办理记录）",
           tag=TAG, response=cs.CASE_DETAIL_OUT, errors=(401, 404))
def get_case(case_id: int):
    """One case with its parties, the steps open to the user and its timeline."""
    case = _load(case_id)
    return cs.case_detail(db.session, case, current_api_user(), _today())


@api_route("/cases/<int:case_id>/timeline", "GET", summary="案件办理记录", tag=TAG,
           response=ListOf(cs.EVENT_OUT, max_items=1_000_000), errors=(401, 404))
def case_timeline(case_id: int):
    """Every step of the case, oldest first, with before and after values."""
    case = _load(case_id)
    return [cs.event_out(case, ev) for ev in case.events]


@api_route("/cases", "POST", summary="登记案件", tag=TAG, response=cs.CASE_DETAIL_OUT,
           status=201, body=cs.REGISTER_IN, errors=COMMON_ERRORS)
def register_case(body: dict[str, Any]):
    """Register a petition or a dispute; it gets its number and first due date."""
    user = current_api_user()
    parties = [services.PartyInput(**p) for p in body.pop("parties")]
    data = services.CaseInput(**body, parties=parties)
    case = services.register_case(db.session, user, app_now(), data)
    db.session.commit()
    return cs.case_detail(db.session, case, user, _today())


@api_route("/cases/<int:case_id>/parties/<int:party_id>/id-number", "GET",
           summary="查看完整身份证号（记录查看日志）", tag=TAG, response=cs.REVEALED_ID_OUT,
           errors=(401, 403, 404))
def reveal_id_number(case_id: int, party_id: int):
    """The party's full resident ID number, for roles with the right; each view is logged."""
    user = current_api_user()
    case = _load(case_id)
    party = db.session.get(Party, party_id)
    if party is None or party.case_id != case.id:
        raise NotFound("当事人不存在")
    number = services.reveal_id_number(db.session, user, app_now(), party, channel="api")
    db.session.commit()
    return {"party_id": party.id, "id_number": number}


# --------------------------------------------------------------------------- lifecycle steps


@dataclass
class Step:
    """One lifecycle endpoint: ``POST /cases/{id}/<path>`` calling one service."""

    path: str
    summary: str
    fields: dict[str, Field]
    call: Callable[..., Any]


def _step_schema(path: str, fields: dict[str, Field]) -> Schema:
    name = "".join(p.capitalize() for p in path.split("-")) + "Input"
    return Schema(name, {**fields, "version": VERSION})


S = services
STEPS: list[Step] = [
    Step("accept", "受理", {"accepted_on": Date(nullable=True, description="默认今天")},
         lambda s, u, n, c, b: S.accept_case(s, u, n, c, accepted_on=b["accepted_on"])),
    Step("reject", "不予受理", {"reason": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.reject_case(s, u, n, c, b["reason"])),
    Step("return", "退回交办机关（收到后5个工作日内）",
         {"reason": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.return_case(s, u, n, c, b["reason"])),
    Step("assign", "交办承办单位 / 指定承办人",
         {"unit_id": Id(nullable=True), "handler_id": Id(nullable=True),
          "note": String(max_length=5000, default="")},
         lambda s, u, n, c, b: S.assign_case(s, u, n, c, b["unit_id"], b["handler_id"],
                                             note=b["note"])),
    Step("progress", "记录办理进展", {"note": String(required=True, max_length=20_000)},
         lambda s, u, n, c, b: S.record_progress(s, u, n, c, b["note"])),
    Step("extend-request", "申请延期",
         {"days": Integer(required=True, minimum=-1000, maximum=1000),
          "reason": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.request_extension(s, u, n, c, b["days"], b["reason"])),
    Step("extend-decide", "审批延期",
         {"approve": Boolean(required=True), "note": String(max_length=5000, default="")},
         lambda s, u, n, c, b: S.decide_extension(s, u, n, c, b["approve"], note=b["note"])),
    Step("reply", "答复",
         {"outcome": String(required=True, choices=rules.OUTCOMES),
          "reply_text": String(required=True, max_length=20_000),
          "delivered_on": Date(required=True)},
         lambda s, u, n, c, b: S.reply_case(s, u, n, c, b["outcome"], b["reply_text"],
                                            b["delivered_on"])),
    Step("close", "办结 / 结案",
         {"rating": String(choices=rules.RATINGS, nullable=True),
          "closed_on": Date(nullable=True), "note": String(max_length=5000, default="")},
         lambda s, u, n, c, b: S.close_case(s, u, n, c, rating=b["rating"],
                                            closed_on=b["closed_on"], note=b["note"])),
    Step("rework", "退回重办",
         {"reason": String(required=True, max_length=5000),
          "due_on": Date(nullable=True, description="交办机关重新规定的办理期限")},
         lambda s, u, n, c, b: S.rework_case(s, u, n, c, b["reason"], due_on=b["due_on"])),
    Step("start-mediation", "开始调解",
         {"level": String(choices=tuple(rules.MEDIATION_LEVELS), default="village"),
          "note": String(max_length=5000, default="")},
         lambda s, u, n, c, b: S.start_mediation(s, u, n, c, level=b["level"], note=b["note"])),
    Step("mediation-session", "记录调解",
         {"held_on": Date(required=True), "note": String(required=True, max_length=20_000)},
         lambda s, u, n, c, b: S.record_mediation_session(s, u, n, c, b["held_on"], b["note"])),
    Step("escalate", "上交镇级调解", {"reason": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.escalate_dispute(s, u, n, c, b["reason"])),
    Step("resolve", "调解成功",
         {"agreement_type": String(required=True, choices=tuple(rules.AGREEMENT_TYPES)),
          "agreement_text": String(required=True, max_length=20_000)},
         lambda s, u, n, c, b: S.resolve_dispute(s, u, n, c, b["agreement_type"],
                                                 b["agreement_text"])),
    Step("terminate", "调解终止", {"reason": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.terminate_dispute(s, u, n, c, b["reason"])),
    Step("follow-up", "回访",
         {"visited_on": Date(required=True), "honoured": Boolean(required=True),
          "note": String(max_length=5000, default="")},
         lambda s, u, n, c, b: S.record_follow_up(s, u, n, c, b["visited_on"], b["honoured"],
                                                  note=b["note"])),
    Step("flag-risk", "报告风险（已报警）", {"note": String(required=True, max_length=5000)},
         lambda s, u, n, c, b: S.flag_risk(s, u, n, c, b["note"])),
]


def _register_step(step: Step) -> None:
    def view(case_id: int, body: dict[str, Any]):
        user = current_api_user()
        case = _load(case_id)
        expected = body.pop("version")
        if expected is None:
            expected = expected_version()
        if expected is not None and expected != case.version:
            raise ApiError(409, "stale_write",
                           f"案件已被修改（当前版本 {case.version}，提交的版本 {expected}），"
                           "请重新读取后再提交")
        step.call(db.session, user, app_now(), case, body)
        db.session.commit()
        return cs.case_detail(db.session, case, user, _today())

    view.__name__ = "step_" + step.path.replace("-", "_")
    view.__doc__ = f"{step.summary}. Calls the same service as the web page."
    api_route(f"/cases/<int:case_id>/{step.path}", "POST", summary=step.summary, tag=TAG,
              response=cs.CASE_DETAIL_OUT, body=_step_schema(step.path, step.fields),
              errors=COMMON_ERRORS, headers=IF_MATCH)(view)


for _step in STEPS:
    _register_step(_step)
