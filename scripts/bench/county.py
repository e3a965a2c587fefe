"""A county of towns with realistic spread, loaded fast into SQLite or PostgreSQL.

Used by ``scripts/bench/pages.py`` and ``scripts/bench/web.py``; not a benchmark itself.

Each town has 18-30 villages with a grid worker each, 10-14 units with two handlers each, a
supervisor, a leader and an admin; a county user sees every town. Cases spread over the
villages, units, handlers, categories and channels of their town from 2020 to ``TODAY``; their
titles and summaries are built from a vocabulary of real complaints, and each case carries the
events the as-of figures are rebuilt from (registration, acceptance, assignment, reply and
closure; mediation, resolution or termination, follow-up visit). Every town is drawn from its
own seeded generator, so town 1 is the same case for case in a 10k and a 1M county: pages of
town 1 can be compared as the rest of the table grows.

Rows are generated in Python and written with ``executemany`` on SQLite and ``COPY`` on
PostgreSQL, with the secondary indexes dropped during the load and rebuilt afterwards, and
the triggers of the search index and of the towns' write generations dropped and restored
(every town's generation bumped once after the load); the row triggers on ``case_events``
that keep ``cases.last_event_at`` are off too (each case row carries the instant of its
latest event instead).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, text
from werkzeug.security import generate_password_hash

from casetrack.cases import generations, last_event, search_index
from casetrack.core.normalize import canonical_ref, search_document

START = dt.date(2020, 1, 1)
#: the benchmark's "today" (FIXED_NOW of the app): Monday 30 November 2026, 10:00 in Beihe
TODAY = dt.date(2026, 11, 30)
FIXED_NOW = "2026-11-30T10:00:00+08:00"
PASSWORD = "bench-1234"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红娥玲芬燕鹏辉建国志强海波金凤德明春梅永福文杰国强宏伟家豪子轩梓涵一诺雨桐浩然欣怡俊杰嘉怡晓东丽华"
VILLAGE_WORDS = ("东", "西", "南", "北", "新", "龙", "凤", "石", "水", "田", "塘", "山", "岭", "溪",
                 "湖", "港", "桥", "坡", "林", "禾", "沙", "云", "平", "安", "和", "兴", "福", "泰")
UNIT_NAMES = ("综治办", "信访办", "司法所", "派出所", "国土所", "农业办", "城建办", "社保所",
              "民政办", "卫生院", "市场监管所", "环保办", "交管站", "水务站")
PETITION_CATS = ("城乡建设", "农村农业", "劳动和社会保障", "自然资源", "生态环境", "交通运输",
                 "卫生健康", "市场监督", "经济管理", "文体旅游", "民政与应急", "教育", "政法",
                 "纪检监察", "组织人事", "党务政务", "其他")
DISPUTE_CATS = ("婚姻家庭", "邻里", "房屋宅基地", "合同", "生产经营", "损害赔偿", "山林土地",
                "征地拆迁", "环境污染", "劳动争议", "消费", "医疗", "道路交通事故", "物业", "其他")
PETITION_SOURCES = (("assigned", 30), ("forwarded", 10), ("letter", 10), ("visit", 25),
                    ("call", 12), ("online", 10), ("leader_visit", 3))
DISPUTE_SOURCES = (("screening", 60), ("application", 30), ("transfer", 10))
PETITION_TOPICS = (
    "村道破损出行不便", "拖欠农民工工资", "宅基地审批迟迟未办", "养殖场污水直排", "低保资格被取消",
    "征地补偿款未到位", "学校周边交通隐患", "自来水水压不足", "垃圾清运不及时", "违建占用公共通道",
    "医保报销比例有疑问", "土地承包合同纠纷", "噪音扰民夜间施工", "危房改造补助未发放",
    "村务公开不及时", "路灯损坏多日未修", "排水沟堵塞积水", "林地被他人占用", "集体资产处置不公",
    "养老保险缴费年限", "河道采砂破坏堤岸", "扶贫项目资金使用", "校车安排不合理", "农田灌溉水源不足",
)
DISPUTE_TOPICS = (
    "宅基地边界争议", "邻里排水纠纷", "婚后财产分割", "赡养老人费用分摊", "土地租金拖欠",
    "鱼塘承包到期纠纷", "建房采光遮挡", "交通事故赔偿", "工地受伤赔偿", "借款未还",
    "山林界址不清", "家禽损毁庄稼", "物业费收取争议", "果园转让合同", "租房押金退还",
)
SUMMARY_BITS = (
    "当事人多次到村委会反映，情绪较为激动。", "已有村干部初步了解情况。", "涉及多户村民利益。",
    "要求尽快处理并书面答复。", "此前曾口头反映未果。", "现场已拍照留存。",
    "反映人称问题已持续半年以上。", "涉及金额约数万元。", "需要相关部门联合处理。",
)
RATINGS = (("满意", 55), ("基本满意", 25), ("不满意", 8), ("未评价", 12))
OUTCOMES = ("支持", "解释说明", "不予支持")
TS_FMT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass
class Town:
    id: int
    name: str
    villages: list[int]
    units: list[int]
    #: handler user ids per unit id
    handlers: dict[int, list[int]]
    grid_of: dict[int, int]
    supervisor: int
    county: int | None = None


def _weighted(rng: random.Random, pairs) -> str:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def person_name(rng: random.Random) -> str:
    """A Chinese name of two or three characters."""
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
    return rng.choice(SURNAMES) + given


def id_number(rng: random.Random) -> str:
    """A fictional resident ID with a correct check digit."""
    body = (f"4408{rng.randint(10, 99)}{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}"
            f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]


_DAY0 = dt.datetime(START.year, START.month, START.day, 0, 30)
_MINUTES = [dt.timedelta(minutes=m) for m in range(541)]


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """An office-hours instant (08:30-17:30 Beihe, UTC+8) of ``day``, naive UTC."""
    return _DAY0 + dt.timedelta(days=(day - START).days) + _MINUTES[int(rng.random() * 541)]


# --------------------------------------------------------------------------- writers


class Writer:
    """Bulk rows into one database: ``rows(table, columns, iterable of tuples)``."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.dialect = conn.dialect.name

    def rows(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        if not rows:
            return
        raw = self.conn.connection.driver_connection
        if self.dialect == "postgresql":
            with raw.cursor() as cur, cur.copy(
                    f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                            [tuple(_sqlite(v) for v in row) for row in rows])


def _sqlite(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.strftime(TS_FMT)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------- the county


def prefix_of(town_id: int, kind: str) -> str:
    """The number prefix of a bench town's cases of ``kind`` (镇3信, 镇3调)."""
    return f"镇{town_id}{'信' if kind == 'petition' else '调'}"


def build_org(w: Writer, n_towns: int, county_code: str = "440882") -> list[Town]:
    """Towns, villages, units and users (a supervisor, leader, admin per town, a grid worker
    per village, two handlers per unit) and one county user."""
    pw = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    created = dt.datetime(2019, 12, 1, 1, 0)
    towns, prefixes, villages, units, users, user_villages = [], [], [], [], [], []
    user_cols = ["id", "town_id", "county_code", "username", "name", "role", "unit_id", "phone",
                 "email", "password_hash", "is_enabled", "locale", "created_at"]
    out: list[Town] = []
    vid = uid = usr = 0

    def user(town_id, username, name, role, unit_id=None, county=""):
        nonlocal usr
        usr += 1
        users.append((usr, town_id, county, username, name, role, unit_id, "", "", pw, True, "",
                      created))
        return usr

    for t in range(1, n_towns + 1):
        rng = random.Random(f"org-{t}")
        name = f"{rng.choice(VILLAGE_WORDS)}{rng.choice(VILLAGE_WORDS)}{t}镇"
        towns.append((t, name, county_code, "雷州市", created))
        prefixes += [(t, kind, prefix_of(t, kind)) for kind in ("petition", "dispute")]
        v_ids, u_ids, handlers, grid_of = [], [], {}, {}
        names = set()
        for i in range(rng.randint(18, 30)):
            vname = rng.choice(VILLAGE_WORDS) + rng.choice(VILLAGE_WORDS) + \
                ("社区" if i < 3 else "村")
            while vname in names:
                vname = rng.choice(VILLAGE_WORDS) + vname
            names.add(vname)
            vid += 1
            villages.append((vid, t, vname, "社区" if i < 3 else "行政村", i, True))
            v_ids.append(vid)
        for uname in rng.sample(UNIT_NAMES, rng.randint(10, 14)):
            uid += 1
            units.append((uid, t, uname, True))
            u_ids.append(uid)
        sup = user(t, f"t{t}-supervisor", person_name(rng), "supervisor")
        user(t, f"t{t}-leader", person_name(rng), "leader")
        user(t, f"t{t}-admin", person_name(rng), "admin")
        for u in u_ids:
            handlers[u] = [user(t, f"t{t}-h{u}-{k}", person_name(rng), "handler", u)
                           for k in (1, 2)]
        for v in v_ids:
            g = user(t, f"t{t}-grid{v}", person_name(rng), "grid_worker")
            user_villages.append((g, v))
            grid_of[v] = g
        out.append(Town(t, name, v_ids, u_ids, handlers, grid_of, sup))
    county = user(None, "county", "县级查看员", "county", county=county_code)
    for town in out:
        town.county = county
    w.rows("towns", ["id", "name", "county_code", "county_name", "created_at"], towns)
    w.rows("case_number_prefixes", ["town_id", "kind", "code"], prefixes)
    w.rows("villages", ["id", "town_id", "name", "kind", "sort_order", "is_active"], villages)
    w.rows("units", ["id", "town_id", "name", "is_active"], units)
    w.rows("users", user_cols, users)
    w.rows("user_villages", ["user_id", "village_id"], user_villages)
    return out


CASE_COLUMNS = [
    "id", "town_id", "kind", "number", "number_year", "number_seq", "title", "summary", "source",
    "petition_class", "category", "village_id", "received_on", "accepted_on", "external_ref",
    "external_due_on", "external_authority", "group_size", "is_repeat", "handler_id", "unit_id",
    "status", "due_on", "due_rule", "due_basis", "due_is_exact", "extension_days",
    "extension_state", "extension_reason", "outcome", "reply_text", "reply_delivered_on",
    "rating", "closed_on", "exit_reason", "mediation_level", "resolution_level",
    "agreement_type", "agreement_text", "is_risk", "follow_up_on", "follow_up_honoured",
    "reported_by_id", "created_at", "updated_at", "version", "search_text", "external_ref_key",
    "is_open", "statutory_due_on", "notify_due_on", "due_start_on", "mediated_on",
    "follow_up_due_on", "mediation_due_on", "last_event_at",
]
#: statuses after which a case is no longer open (``cases.models.FINAL_STATUSES``)
FINAL = frozenset({"closed", "reviewed", "reexamined", "not_accepted", "returned"})
EVENT_COLUMNS = ["case_id", "actor_id", "at", "action", "from_status", "to_status", "changes",
                 "note"]
PARTY_COLUMNS = ["case_id", "role", "name", "id_number", "phone", "address"]


def _json(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return f'"{value}"'  # dates and plain words: nothing to escape


def _j(**changes) -> str:
    """The ``changes`` JSON of an event: {field: [before, after]}."""
    return "{" + ", ".join(f'"{k}": [{_json(a)}, {_json(b)}]' for k, (a, b) in changes.items()) \
        + "}"


def town_cases(town: Town, n: int, first_id: int) -> Iterator[tuple[tuple, list, list]]:
    """``n`` cases of one town (ids from ``first_id``), each with its events and parties,
    received in date order from 2020-01-01 to TODAY."""
    rng = random.Random(f"cases-{town.id}")
    span = (TODAY - START).days
    days = sorted(int(rng.random() * (span + 1)) for _ in range(n))
    seq: dict[tuple[str, int], int] = {}
    for i, offset in enumerate(days):
        cid = first_id + i
        received = START + dt.timedelta(days=offset)
        kind = "petition" if rng.random() < 0.62 else "dispute"
        key = (kind, received.year)
        seq[key] = seq.get(key, 0) + 1
        number = f"{prefix_of(town.id, kind)}〔{received.year}〕{seq[key]}号"
        village = rng.choice(town.villages)
        unit = rng.choice(town.units)
        handler = rng.choice(town.handlers[unit])
        grid = town.grid_of[village]
        ev: list[tuple] = []
        c = dict.fromkeys(CASE_COLUMNS)
        c.update(id=cid, town_id=town.id, kind=kind, number=number, number_year=received.year,
                 number_seq=seq[key], received_on=received, external_authority="",
                 village_id=village,
                 group_size=1, is_repeat=rng.random() < 0.08, due_is_exact=True,
                 extension_days=0, extension_state="none", extension_reason="", reply_text="",
                 exit_reason="", agreement_text="", is_risk=False, version=1)
        reg_at = _at(received, rng)
        if kind == "petition":
            source = _weighted(rng, PETITION_SOURCES)
            topic = rng.choice(PETITION_TOPICS)
            c.update(source=source, petition_class=rng.choice(("建议意见", "检举控告", "申诉求决")),
                     category=rng.choice(PETITION_CATS),
                     reported_by_id=town.supervisor)
            if source in ("assigned", "forwarded"):
                c.update(external_ref=f"雷信交〔{received.year}〕{rng.randint(1, 999)}号",
                         external_authority="雷州市信访局",
                         external_due_on=received + dt.timedelta(days=rng.choice((30, 45, 60))))
        else:
            source = _weighted(rng, DISPUTE_SOURCES)
            topic = rng.choice(DISPUTE_TOPICS)
            c.update(source=source, category=rng.choice(DISPUTE_CATS), reported_by_id=grid)
        vname_hint = f"第{town.villages.index(village) + 1}组"
        c["title"] = f"{vname_hint}{topic}"
        c["summary"] = "".join(rng.sample(SUMMARY_BITS, rng.randint(1, 3)))
        actor = c["reported_by_id"]
        status = "registered"
        if kind == "petition":
            due = received + dt.timedelta(days=15)
            c.update(due_on=due, due_rule="petition.notify", due_basis="statutory",
                     notify_due_on=due, statutory_due_on=due, due_start_on=received)
            ev.append((cid, actor, reg_at, "register", None, "registered",
                       _j(status=(None, "registered"), due_on=(None, due)), ""))
            last = received
            r = rng.random()
            accept_day = received + dt.timedelta(days=rng.choice((0, 1, 2, 3, 5, 8, 12, 16)))
            if r < 0.02 and accept_day <= TODAY:
                status = "not_accepted"
                c.update(status=status, closed_on=accept_day, exit_reason="不属于信访事项")
                ev.append((cid, actor, _at(accept_day, rng), "reject", "registered",
                           status, _j(closed_on=(None, accept_day)), "不属于信访事项"))
            elif accept_day <= TODAY:
                handle_due = accept_day + dt.timedelta(days=60)
                if c["external_due_on"] and c["external_due_on"] < handle_due:
                    handle_due, basis = c["external_due_on"], "external"
                else:
                    basis = "statutory"
                status = "accepted"
                c.update(accepted_on=accept_day, due_on=handle_due, due_rule="petition.handle",
                         due_basis=basis, due_start_on=accept_day,
                         statutory_due_on=accept_day + dt.timedelta(days=60))
                ev.append((cid, actor, _at(accept_day, rng), "accept", "registered", status,
                           _j(status=("registered", status), accepted_on=(None, accept_day),
                              due_on=(due, handle_due)), ""))
                last = accept_day
                assign_day = accept_day + dt.timedelta(days=rng.randint(0, 3))
                if assign_day <= TODAY:
                    status = "handling"
                    c.update(unit_id=unit, handler_id=handler)
                    ev.append((cid, actor, _at(assign_day, rng), "assign", "accepted", status,
                               _j(status=("accepted", status), unit_id=(None, unit),
                                  handler_id=(None, handler)), ""))
                    last = assign_day
                    reply_day = assign_day + dt.timedelta(days=int(rng.triangular(5, 80, 35)))
                    if reply_day <= TODAY:
                        status = "replied"
                        outcome = rng.choice(OUTCOMES)
                        c.update(outcome=outcome, reply_text="经调查核实，已依法依规处理。",
                                 reply_delivered_on=reply_day)
                        ev.append((cid, handler, _at(reply_day, rng), "reply", "handling",
                                   status, _j(status=("handling", status),
                                              outcome=(None, outcome),
                                              reply_delivered_on=(None, reply_day)), ""))
                        last = reply_day
                        close_day = reply_day + dt.timedelta(days=rng.randint(1, 10))
                        if close_day <= TODAY:
                            status = "closed"
                            rating = _weighted(rng, RATINGS)
                            c.update(rating=rating, closed_on=close_day)
                            ev.append((cid, actor, _at(close_day, rng), "close", "replied",
                                       status, _j(status=("replied", status),
                                                  closed_on=(None, close_day),
                                                  rating=(None, rating)), ""))
                            last = close_day
            c["status"] = status
        else:
            due = received + dt.timedelta(days=30)
            c.update(due_on=due, due_rule="dispute.mediate", due_basis="statutory",
                     status="registered", statutory_due_on=due, due_start_on=received)
            ev.append((cid, actor, reg_at, "register", None, "registered",
                       _j(status=(None, "registered"), due_on=(None, due)), ""))
            last = received
            level = "village" if rng.random() < 0.75 else "town"
            start_day = received + dt.timedelta(days=rng.randint(0, 2))
            if start_day <= TODAY:
                status = "mediating"
                c.update(mediation_level=level, unit_id=unit if level == "town" else None,
                         handler_id=handler if level == "town" else None)
                ev.append((cid, actor, _at(start_day, rng), "start_mediation", "registered",
                           status, _j(status=("registered", status),
                                      mediation_level=(None, level)), ""))
                last = start_day
                end_day = start_day + dt.timedelta(days=int(rng.triangular(2, 50, 14)))
                if end_day <= TODAY:
                    if rng.random() < 0.85:
                        status = "resolved"
                        agreement = "written" if rng.random() < 0.6 else "oral"
                        # after the agreement the follow-up visit's clock runs; the
                        # mediation due date is kept for 按期
                        follow = end_day + dt.timedelta(days=30)
                        c.update(resolution_level=level, agreement_type=agreement,
                                 agreement_text="双方自愿达成协议。", mediated_on=end_day,
                                 follow_up_due_on=follow, mediation_due_on=due, due_on=follow,
                                 due_rule="dispute.follow_up", statutory_due_on=follow,
                                 due_start_on=end_day)
                        ev.append((cid, actor, _at(end_day, rng), "resolve", "mediating",
                                   status, _j(status=("mediating", status),
                                              resolution_level=(None, level),
                                              agreement_type=(None, agreement),
                                              mediation_due_on=(None, due),
                                              due_on=(due, follow)), ""))
                        last = end_day
                        visit_day = end_day + dt.timedelta(days=rng.randint(10, 30))
                        if visit_day <= TODAY:
                            status = "closed"
                            c.update(follow_up_on=visit_day, follow_up_honoured=True,
                                     closed_on=visit_day)
                            ev.append((cid, actor, _at(visit_day, rng), "close", "resolved",
                                       status, _j(status=("resolved", status),
                                                  follow_up_on=(None, visit_day),
                                                  closed_on=(None, visit_day)), ""))
                            last = visit_day
                    else:
                        status = "terminated"
                        c.update(exit_reason="一方拒绝调解", mediated_on=end_day,
                                 mediation_due_on=due)
                        ev.append((cid, actor, _at(end_day, rng), "terminate", "mediating",
                                   status, _j(status=("mediating", status)), "一方拒绝调解"))
                        last = end_day
                        close_day = end_day + dt.timedelta(days=rng.randint(1, 15))
                        if rng.random() < 0.9 and close_day <= TODAY:  # filed (结案归档)
                            status = "closed"
                            c.update(closed_on=close_day)
                            ev.append((cid, actor, _at(close_day, rng), "close", "terminated",
                                       status, _j(status=("terminated", status),
                                                  closed_on=(None, close_day)), ""))
                            last = close_day
            if rng.random() < 0.01:
                c["is_risk"] = True
            c["status"] = status
        c["is_open"] = c["status"] not in FINAL
        c["created_at"] = reg_at
        c["updated_at"] = _at(last, rng) if last > received else reg_at
        parties = []
        n_parties = 2 if kind == "dispute" else (1 if rng.random() < 0.9 else 2)
        for k in range(n_parties):
            role = "petitioner" if kind == "petition" else ("applicant", "respondent")[k]
            parties.append((cid, role, person_name(rng),
                            id_number(rng) if rng.random() < 0.35 else None,
                            f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
                            f"{vname_hint}{rng.randint(1, 200)}号"))
        c["search_text"] = search_document(c["number"], c["external_ref"], c["title"],
                                           c["summary"], *(p[2] for p in parties),
                                           *(p[4] for p in parties))
        c["external_ref_key"] = canonical_ref(c["external_ref"]) or None
        # steps of one day got independent office-hours instants: put them in the order they
        # were taken (the app records each step at its own "now", so a case's timeline never
        # runs backwards; the as-of figures read it in that order). Days never run backwards
        # here, so each step keeps its day.
        instants = sorted(e[2] for e in ev)
        ev = [(*e[:2], t, *e[3:]) for e, t in zip(ev, instants, strict=True)]
        c["created_at"] = instants[0]
        # what the triggers on case_events keep (``cases/last_event.py``), set here: they are
        # off during the load
        c["last_event_at"] = instants[-1]
        yield tuple(c[k] for k in CASE_COLUMNS), ev, parties


def drop_secondary_indexes(conn: Connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the non-constraint indexes of ``tables``; returns their CREATE statements."""
    names = ", ".join(f"'{t}'" for t in tables)
    if conn.dialect.name == "postgresql":
        rows = conn.execute(text(
            f"SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' "
            f"AND i.tablename IN ({names}) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            f"WHERE c.conname = i.indexname)")).all()
    else:
        rows = conn.execute(text(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({names})")).all()
    for name, _sql in rows:
        conn.execute(text(f'DROP INDEX "{name}"'))
    return [sql for _name, sql in rows]


def drop_search_triggers(conn: Connection) -> list[str]:
    """SQLite: drop the triggers that keep the FTS5 search indexes in step with ``cases`` (one
    index insert per row is slow at a million rows); returns their CREATE statements.
    ``restore_search_triggers`` puts them back and refills the indexes in one pass each."""
    if conn.dialect.name != "sqlite":
        return []
    rows = conn.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'cases' "
        f"AND name LIKE '{search_index.FTS_TABLE}%'")).all()
    for name, _sql in rows:
        conn.execute(text(f'DROP TRIGGER "{name}"'))
    return [sql for _name, sql in rows]


def restore_search_triggers(conn: Connection, triggers: list[str]) -> None:
    if conn.dialect.name != "sqlite":
        return
    for sql in triggers:
        conn.execute(text(sql))
    for sql in search_index.SQLITE_REBUILD:
        conn.execute(text(sql))


def pause_last_event_triggers(conn: Connection) -> None:
    """Turn off the triggers that keep ``cases.last_event_at`` (one UPDATE of ``cases`` per
    event inserted: 4.5 million at a million cases); the rows loaded carry the column.
    ``resume_last_event_triggers`` turns them on again."""
    for sql in (last_event.SQLITE_DROP if conn.dialect.name == "sqlite"
                else (last_event.PG_DISABLE,)):
        conn.execute(text(sql))


def resume_last_event_triggers(conn: Connection) -> None:
    for sql in (last_event.SQLITE_DDL if conn.dialect.name == "sqlite"
                else (last_event.PG_ENABLE,)):
        conn.execute(text(sql))


def build_county(conn: Connection, n_cases: int, n_towns: int, town1_cases: int,
                 log=print) -> None:
    """Fill an empty (migrated) schema: the organisation, then ``n_cases`` cases of which
    ``town1_cases`` belong to town 1 and the rest spread evenly over the other towns."""
    t0 = time.perf_counter()
    w = Writer(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET TIME ZONE 'UTC'"))  # naive instants below are UTC
    towns = build_org(w, n_towns)
    indexes = drop_secondary_indexes(conn, ("cases", "case_events", "parties"))
    triggers = drop_search_triggers(conn)
    # the write generations' triggers: one bump per row is wasted on a load (bumped after)
    bumps = generations.drop_triggers(conn)
    pause_last_event_triggers(conn)
    rest = n_cases - town1_cases
    per_town = [town1_cases] + [rest // (n_towns - 1) + (1 if i < rest % (n_towns - 1) else 0)
                                for i in range(n_towns - 1)] if n_towns > 1 else [n_cases]
    next_id = 1
    n_events = n_parties = 0
    for town, n in zip(towns, per_town, strict=True):
        cases, events, parties = [], [], []
        for case_row, ev, pa in town_cases(town, n, next_id):
            cases.append(case_row)
            events.extend(ev)
            parties.extend(pa)
        w.rows("cases", CASE_COLUMNS, cases)
        w.rows("case_events", EVENT_COLUMNS, events)
        w.rows("parties", PARTY_COLUMNS, parties)
        next_id += n
        n_events += len(events)
        n_parties += len(parties)
        if town.id % 10 == 0:
            log(f"  {town.id}/{n_towns} towns, {next_id - 1:,} cases "
                f"({time.perf_counter() - t0:.0f} s)")
    t1 = time.perf_counter()
    for sql in indexes:
        conn.execute(text(sql))
    restore_search_triggers(conn, triggers)
    generations.restore_triggers(conn, bumps)
    resume_last_event_triggers(conn)
    counters = conn.execute(text(
        "SELECT town_id, kind, number_year, max(number_seq) FROM cases "
        "GROUP BY town_id, kind, number_year")).all()
    w.rows("case_number_counters", ["town_id", "kind", "year", "last_value"],
           [tuple(r) for r in counters])
    if conn.dialect.name == "postgresql":
        for table in ("towns", "villages", "units", "users", "cases", "case_events", "parties"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                              f"(SELECT max(id) FROM {table}))"))
    conn.execute(text("ANALYZE"))
    log(f"built {n_cases:,} cases, {n_events:,} events, {n_parties:,} parties over "
        f"{n_towns} towns in {time.perf_counter() - t0:.0f} s (indexes "
        f"{time.perf_counter() - t1:.0f} s)")


#: tables copied from a built SQLite county into PostgreSQL, parents first
COPIED_TABLES = ("towns", "case_number_prefixes", "villages", "units", "users",
                 "user_villages", "cases", "case_events", "parties", "case_number_counters")


def copy_from_sqlite(conn: Connection, sqlite_path: str, log=print) -> None:
    """Fill an empty (migrated) PostgreSQL schema from a county built in SQLite, with COPY:
    generating a million cases in Python costs minutes, reading them back seconds."""
    import sqlite3

    t0 = time.perf_counter()
    conn.execute(text("SET TIME ZONE 'UTC'"))
    src = sqlite3.connect(sqlite_path)
    indexes = drop_secondary_indexes(conn, ("cases", "case_events", "parties"))
    bumps = generations.drop_triggers(conn)
    # the SQLite county carries ``cases.last_event_at`` (set by its builder, or backfilled by
    # the migration that added it): COPY would otherwise fire a trigger per event
    pause_last_event_triggers(conn)
    raw = conn.connection.driver_connection
    for table in COPIED_TABLES:
        cols = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
        pg_types = dict(conn.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = :t"), {"t": table}).all())
        bools = [i for i, c in enumerate(cols) if pg_types.get(c) == "boolean"]
        cur = src.execute(f"SELECT {', '.join(cols)} FROM {table}")
        with raw.cursor() as pg, pg.copy(
                f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            while batch := cur.fetchmany(10000):
                for row in batch:
                    if bools:
                        row = list(row)
                        for i in bools:
                            if row[i] is not None:
                                row[i] = bool(row[i])
                    copy.write_row(row)
        log(f"  {table} copied ({time.perf_counter() - t0:.0f} s)")
    src.close()
    resume_last_event_triggers(conn)
    for sql in indexes:
        conn.execute(text(sql))
    generations.restore_triggers(conn, bumps)
    for table in ("towns", "case_number_prefixes", "villages", "units", "users", "cases",
                  "case_events", "parties"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                          f"(SELECT max(id) FROM {table}))"))
    conn.execute(text("ANALYZE"))
    log(f"copied the county from {sqlite_path} in {time.perf_counter() - t0:.0f} s")
