"""Cases over the API: list, detail, timeline, register, full ID number, and one endpoint per
lifecycle step. Every handler parses, calls one service of ``cases.services``, commits once.
"""

from __future__ import annotations

from typing import Any

from flask import request

from casetrack.api import case_schemas as cs
from casetrack.api.core import (
    CAPPED_PAGINATION,
    ApiError,
    api_route,
    current_api_user,
    expected_version,
    paginate_capped,
)
from casetrack.api.schema import BadInput, Boolean, Date, Field, Id, Integer, ListOf, Schema, String
from casetrack.cases import display, services, steps
from casetrack.cases.models import Case, Party
from casetrack.cases.queries import ALL, STATUS_VALUES, CaseFilters, select_cases
from casetrack.cases.scoping import can_see_case, require_visible
from casetrack.core.errors import NotFound
from casetrack.core.i18n import N_, Msg
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db

TAG = "cases"
COMMON_ERRORS = (400, 401, 403, 404, 409, 413, 422)
VERSION = Integer(minimum=1, maximum=2**31 - 1, nullable=True,
                  description="读取时的案件版本号；与当前版本不符时返回 409 stale_write")
IF_MATCH = {"If-Match": String(max_length=20, description="读取时的案件版本号（可代替 version 字段），如 \"3\"；不符时返回 409 stale_write")}


def _today():
    return local_date(app_now())


def _load(case_id: int) -> Case:
    return require_visible(current_api_user(), db.session.get(Case, case_id))


def _known_status() -> None:
    """A ``status`` that is no status is a malformed request (400 ``invalid_status``), never
    read as another list."""
    value = request.args.get("status")
    if value is not None and value not in STATUS_VALUES:
        raise BadInput(Msg(N_("状态“%(value)s”无效"), value=value), code="invalid_status",
                       fields={"status": N_("可选值：open、all 或案件状态")})


@api_route("/cases", "GET", summary="案件列表（与页面相同的筛选条件、排序与分页）", tag=TAG,
           response=ListOf(cs.CASE_OUT, max_items=100), query=cs.CASE_LIST_QUERY,
           paginated=True, meta=CAPPED_PAGINATION, errors=(400, 401, 422),
           before_input=_known_status)
def list_cases(query: dict[str, Any]):
    """Cases the user may see, filtered and ordered like the case list page (``sort``; by
    default open cases first, most urgent first). Unlike the page, every status is listed
    unless ``status`` narrows it (API clients keep their view of closed cases).

    Like the page, the count stops at 1,000 (a county holds a million cases): beyond it
    ``meta.total_capped`` is true and ``total``/``pages`` are lower bounds; ``has_next``
    says exactly whether another page follows."""
    user = current_api_user()
    today = _today()
    page, per_page = query.pop("page"), query.pop("per_page")
    if (query.get("received_from") and query.get("received_to")
            and query["received_from"] > query["received_to"]):
        # dates the wrong way round: a malformed request, never an empty list
        raise BadInput(N_("收到日期起晚于收到日期止"), code="invalid_period",
                       fields={"received_from": N_("不能晚于 received_to")})
    if query.get("status") in (ALL, None):
        query["status"] = None
    filters = CaseFilters(**query)
    stmt = select_cases(user, filters, today, display.yellow_days())
    items, meta = paginate_capped(stmt, page, per_page)
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
        raise NotFound(N_("当事人不存在"))
    number = services.reveal_id_number(db.session, user, app_now(), party, channel="api")
    return {"party_id": party.id, "id_number": number}


# --------------------------------------------------------------------------- lifecycle steps


def _api_field(inp: steps.Input) -> Field:
    """The API schema field of one declared step input (the web form is generated from the
    same declaration)."""
    optional: dict[str, Any] = {"required": inp.required}
    if not inp.required:
        optional.update(nullable=inp.type not in ("text", "longtext") and inp.default is None,
                        default=inp.default)
    description = inp.description or ""
    if inp.type == "date":
        return Date(description=description, **optional)
    if inp.type == "int":
        return Integer(minimum=inp.minimum, maximum=inp.maximum, description=description,
                       **optional)
    if inp.type == "bool":
        return Boolean(description=description, **optional)
    if inp.type == "id":
        return Id(description=description, **optional)
    if inp.type == "choice" and inp.choices:
        return String(choices=tuple(v for v, _label in inp.choices), description=description,
                      **optional)
    # a choice whose values depend on the case (``options``: the category of its kind) is
    # checked by the service; an empty enum here refused every value
    return String(max_length=inp.max_length, description=description, **optional)


def step_schema(step: steps.Step) -> Schema:
    """The request body of a step: its declared inputs plus the optional ``version``."""
    name = "".join(p.capitalize() for p in step.slug.split("-")) + "Input"
    return Schema(name, {**{i.name: _api_field(i) for i in step.inputs}, "version": VERSION})


STEP_DESCRIPTION = (
    "与网页调用同一服务、同一校验。防止覆盖他人的修改：在请求体中带上读取案件时的 `version`，"
    "或在 `If-Match` 头中带上该版本号（如 `If-Match: \"3\"`）；与当前版本不符时返回 "
    "409 `stale_write`，不写入任何数据。不带版本号时照常执行（不做版本检查）。"
)


def _register_step(step: steps.Step) -> None:
    def view(case_id: int, body: dict[str, Any]):
        user = current_api_user()
        case = _load(case_id)
        expected = body.pop("version")
        if expected is None:
            expected = expected_version()
        if expected is not None and expected != case.version:
            raise ApiError(409, "stale_write",
                           N_("案件已被修改（当前版本 %(current)s，提交的版本 %(sent)s），"
                              "请重新读取后再提交"),
                           params={"current": case.version, "sent": expected})
        step.perform(db.session, user, app_now(), case, body)
        return cs.case_detail(db.session, case, user, _today())

    def step_of_kind(case_id: int) -> None:
        # only a case the user sees (else the body is read first, as for every route)
        case = db.session.get(Case, case_id)
        if case is not None and can_see_case(current_api_user(), case):
            steps.require_step_of_kind(case, step.name)

    view.__name__ = "step_" + step.name
    description = (f"规则：{step.rule}。" if step.rule else "") + STEP_DESCRIPTION
    view.__doc__ = description
    api_route(f"/cases/<int:case_id>/{step.slug}", "POST", summary=step.summary or step.label,
              tag=TAG, response=cs.CASE_DETAIL_OUT, body=step_schema(step),
              errors=COMMON_ERRORS, headers=IF_MATCH, description=description,
              before_input=step_of_kind)(view)


for _step in steps.STEPS.values():
    _register_step(_step)
