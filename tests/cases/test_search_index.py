"""The trigram search index: which SQL a term becomes on each database, and terms with the
characters FTS5 and LIKE treat specially."""

from __future__ import annotations

from sqlalchemy import select, text
from views_support import case_numbers, login_as, make_petition
from views_support import text as page_text

from casetrack.cases import search_index
from casetrack.cases.models import Case
from casetrack.cases.queries import search_conditions
from casetrack.extensions import db


def _sql(q: str) -> str:
    stmt = select(Case.id).where(*search_conditions(q))
    return str(stmt.compile(dialect=db.engine.dialect))


def test_long_terms_use_the_index_and_short_ones_like(app):
    long_sql, short_sql = _sql("村道破损"), _sql("王伟")
    if db.engine.dialect.name == "sqlite":
        assert "cases_search" in long_sql and "MATCH" in long_sql
        assert "cases_search" not in short_sql and "LIKE" in short_sql
    else:
        assert "LIKE" in long_sql and "LIKE" in short_sql
        indexes = set(db.session.scalars(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")))
        assert search_index.PG_INDEX in indexes
    # two words: each its own condition (AND)
    assert _sql("村道破损 王伟").count("LIKE") + _sql("村道破损 王伟").count("MATCH") == 2


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
