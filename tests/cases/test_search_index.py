"""The search indexes: which SQL a term becomes on each database, terms with the characters
FTS5 and LIKE treat specially, and one- to many-character terms found exactly as the LIKE
finds them, by a town's user and by the county's, through the list page and the API."""

from __future__ import annotations

import re

from sqlalchemy import select, text
from views_support import case_numbers, login_as, make_petition
from views_support import text as page_text

from casetrack.auth.tokens import create_token
from casetrack.cases import search_index
from casetrack.cases.models import Case
from casetrack.cases.queries import search_conditions
from casetrack.extensions import db


def _sql(q: str, town_id: int | None = None) -> str:
    stmt = select(Case.id).where(*search_conditions(q, town_id))
    return str(stmt.compile(dialect=db.engine.dialect))


def test_every_term_is_looked_up_by_an_index_then_checked_with_like(app):
    long_sql, short_sql, one_sql = _sql("村道破损"), _sql("王伟"), _sql("王")
    if db.engine.dialect.name == "sqlite":
        assert f"FROM {search_index.FTS_TABLE} " in long_sql and "MATCH" in long_sql
        assert f"FROM {search_index.CHARS_TABLE} " in short_sql
        assert f"FROM {search_index.CHARS_TABLE} " in one_sql
        assert "BETWEEN" not in short_sql
        # a town's user reads that town's part of the index
        assert "BETWEEN" in _sql("王伟", town_id=1) and "BETWEEN" in _sql("村道破损", town_id=1)
    else:
        assert search_index.PG_GRAMS in short_sql and search_index.PG_GRAMS in one_sql
        assert search_index.PG_GRAMS not in long_sql
        indexes = set(db.session.scalars(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")))
        assert {search_index.PG_INDEX, search_index.PG_GRAMS_INDEX} <= indexes
    for sql in (long_sql, short_sql, one_sql):
        assert "LIKE" in sql
    # two words: each its own condition (AND)
    assert _sql("村道破损 王伟").count("LIKE") == 2


def test_terms_with_quotes_wildcards_and_operators_are_plain_text(client, world, now):
    quoted = make_petition(world, now, title='反映"路灯"不亮 AND OR*（虚构）')
    percent = make_petition(world, now, title="补贴发放100%_到位（虚构）")
    login_as(client, "super")

    def found(q: str) -> set[str]:
        return case_numbers(page_text(client.get("/cases", query_string={"q": q})))

    assert found('"路灯"不亮') == {quoted.number}
    assert found("and or*") == {quoted.number}
    assert found("100%_到位") == {percent.number}
    assert found("100%到位") == set()
    assert found("NEAR(") == set()


def test_two_character_names_and_words_are_found(client, world, now):
    from casetrack.cases import services as svc

    named = make_petition(world, now, title="反映水费偏高（虚构）",
                          parties=[svc.PartyInput(name="王伟")])
    make_petition(world, now, title="反映路面积水（虚构）")
    login_as(client, "super")

    def found(q: str) -> set[str]:
        return case_numbers(page_text(client.get("/cases", query_string={"q": q})))

    assert found("王伟") == {named.number}
    assert found("水费") == {named.number}
    assert found("王伟 水费偏高") == {named.number}


#: case numbers of either town on a page
_NUMBERS = re.compile(r"[北南][和兴][信调]〔\d{4}〕\d+号")

#: (title, party name, phone) of the cases searched below, registered in both towns
_CASES = (
    ("反映村道破损", "王伟", "13800138000"),
    ("养殖场污染 AB-12 x1", "王伟国", ""),
    ('反映"路灯"不亮', "李四", "0759-8888888"),
    ("补贴发放100%_到位 a_b", "欧阳娜娜", ""),
    ("宅基地纠纷[待核实]", "张三", ""),
    ("it's 伟大的村", "赵六", ""),
    ("Café crème 表情😀 生僻字𠀀", "伟", ""),
)
#: what users type: one, two and more characters, Latin and digits, quotes, wildcards,
#: brackets, two fields side by side (never one word), full width, upper case
_QUERIES = (
    "王", "伟", "村", "𠀀", "😀", "é", "王伟", "伟国", "养殖", "损王", "伟1", "伟1380", "伟大",
    "王伟国", "村道破损", "ab", "AB", "ＡＢ", "x1", "1", "12", "ab12", "2026", "（2026）",
    "101号", "雷信交[2026]101号", "13800138000", "0759-8888888", "%", "_", "[", "100%",
    "a_b", "_到", '"路灯"', '"', "'", "it's", "crème", "café", "王伟 养殖", "伟 村",
    "不存在", "王五",
)


def _register_everywhere(world, now) -> None:
    from casetrack.cases import services as svc

    for title, name, phone in _CASES:
        party = [svc.PartyInput(name=name, phone=phone)]
        make_petition(world, now, title=title, parties=party)
        make_petition(world, now, title=title, parties=party, actor=world.other_super,
                      village=world.other_town.villages[0])


def _like_oracle(q: str, visible: set[int]) -> set[str]:
    """The case numbers the plain substring test finds among ``visible`` case ids: each
    term (any of its spellings) in the folded search text, a word of punctuation in one of
    the fields as typed."""
    from casetrack.cases.models import SEARCHED_CASE_FIELDS, Party
    from casetrack.core.normalize import is_literal, search_alternatives

    found = set()
    for case in db.session.scalars(select(Case).where(Case.id.in_(visible))):
        fields = [getattr(case, f) or "" for f in SEARCHED_CASE_FIELDS]
        for party in db.session.scalars(select(Party).where(Party.case_id == case.id)):
            fields += [party.name, party.phone]
        ok = True
        for alternatives in search_alternatives(q):
            if is_literal(alternatives[0]):
                ok &= any(alternatives[0] in f for f in fields)
            else:
                ok &= any(t in case.search_text for t in alternatives)
        if ok:
            found.add(case.number)
    return found


def test_search_finds_exactly_what_like_finds_for_a_town_and_the_county(
        client, world, now, create_user):
    from casetrack.auth.models import Role

    _register_everywhere(world, now)
    create_user("county1", Role.COUNTY, None, county_code="440882")
    db.session.commit()
    town_ids = set(db.session.scalars(select(Case.id).where(Case.town_id == world.town.id)))
    all_ids = set(db.session.scalars(select(Case.id)))
    nonempty = 0
    for username, user, visible in (("super", world.supervisor, town_ids),
                                    ("county1", None, all_ids)):
        if user is None:
            from casetrack.auth.models import User
            user = db.session.scalars(select(User).where(User.username == username)).one()
        _row, token = create_token(db.session, user, now, "search")
        db.session.commit()
        headers = {"Authorization": f"Bearer {token}"}
        login_as(client, username)
        for q in _QUERIES:
            expected = _like_oracle(q, visible)
            page = set(_NUMBERS.findall(page_text(client.get("/cases", query_string={"q": q}))))
            resp = client.get("/api/v1/cases", query_string={"q": q, "per_page": 100},
                              headers=headers)
            assert resp.status_code == 200, resp.get_json()
            api = {c["number"] for c in resp.get_json()["data"]}
            assert page == api == expected, (username, q)
            nonempty += bool(expected)
    assert nonempty > len(_QUERIES)  # most queries find something, for both users
    # the oracle is not trivially empty: the county sees both towns' names
    login_as(client, "county1")
    both = set(_NUMBERS.findall(page_text(client.get("/cases", query_string={"q": "王伟"}))))
    assert {n[:2] for n in both} == {"北和", "南兴"}
