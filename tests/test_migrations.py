"""The Alembic migrations build exactly the schema the models describe, and undo it.

Each test starts from a brand-new database (a temporary SQLite file, or a throwaway
PostgreSQL database when ``CASETRACK_TEST_DATABASE_URL`` is set), runs ``flask db upgrade``
through the CLI, and compares the result with the models using Alembic's autogenerate.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from casetrack import create_app
from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.cases.search_index import is_schema_extra
from casetrack.extensions import db

PG_URL = os.environ.get("CASETRACK_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database of each kind (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("CASETRACK_TEST_DATABASE_URL is not set")
    name = f"casetrack_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture
def migrated_app(blank_url, tmp_path):
    """An app on the blank database (no ``create_all``: only the migrations build it)."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": blank_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    })
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _flask(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)


def _schema_diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, type_, parents: not is_schema_extra(name, type_)})
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    """The tables of the database, less the text-search index's own (not in the models)."""
    with app.app_context():
        return {t for t in inspect(db.engine).get_table_names()
                if not is_schema_extra(t, "table")}


def test_upgrade_builds_exactly_the_models(migrated_app):
    assert _tables(migrated_app) == set()
    _flask(migrated_app, "db", "upgrade")

    assert _tables(migrated_app) == set(db.metadata.tables) | {"alembic_version"}
    diff = _schema_diff(migrated_app)
    assert diff == [], (
        "the migrations and the models differ; regenerate the revision with "
        "`flask --app casetrack db migrate`:\n" + "\n".join(map(repr, diff))
    )


def test_upgrade_is_at_head_and_downgrade_to_base_removes_everything(migrated_app):
    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context(), db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    script_heads = _script_heads(migrated_app)
    assert len(script_heads) == 1, f"the migrations have several heads: {script_heads}"
    assert set(heads) == script_heads

    _flask(migrated_app, "db", "downgrade", "base")
    assert _tables(migrated_app) <= {"alembic_version"}

    # and it comes back up cleanly
    _flask(migrated_app, "db", "upgrade")
    assert _schema_diff(migrated_app) == []


def _script_heads(app) -> set[str]:
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return set(ScriptDirectory.from_config(config).get_heads())


_TOWN_SQL = ("INSERT INTO towns (id, name, county_code, county_name, created_at) "
             "VALUES (:id, :name, '440882', '雷州市', '2026-01-01 00:00:00')")
_CASE_SQL = (
    "INSERT INTO cases (id, town_id, kind, number, number_year, number_seq, title, "
    "summary, source, category, received_on, external_authority, group_size, "
    "is_repeat, status, due_is_exact, extension_days, extension_state, "
    "extension_reason, reply_text, exit_reason, agreement_text, is_risk, created_at, "
    "updated_at, version, search_text) VALUES (:id, :town, 'petition', :n, 2026, :id, 't', "
    "'', 'visit', '其他', '2026-01-01', '', 1, false, 'registered', true, 0, 'none', '', '', "
    "'', '', false, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, :text)")


def _fts_found(table: str, phrase: str) -> list[tuple[int, int]]:
    """(town, case id) of the rows of one SQLite FTS table matching ``phrase``."""
    rows = db.session.execute(text(
        f"SELECT rowid FROM {table} WHERE {table} MATCH :q ORDER BY rowid"), {"q": phrase})
    return [(r >> 32, r & 0xFFFFFFFF) for r, in rows]


def test_migrated_sqlite_search_index_follows_every_case_write(migrated_app):
    """The FTS5 indexes of a migrated SQLite database follow inserts, corrections, moves
    and deletes (their triggers must survive every later revision that rebuilds
    ``cases``)."""
    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the FTS5 index is SQLite's")
        from casetrack.cases import search_index

        triggers = set(db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {f"{search_index.FTS_TABLE}_{s}" for s in ("ai", "ad", "au")} <= triggers
        for town in (1, 2):
            db.session.execute(text(_TOWN_SQL), {"id": town, "name": f"t{town}"})
        db.session.execute(text(_CASE_SQL), {"id": 7, "town": 1, "n": "n7",
                                              "text": "村道破损 王伟"})
        tri, chars = search_index.FTS_TABLE, search_index.CHARS_TABLE

        assert _fts_found(tri, '"道破损"') == [(1, 7)]
        assert _fts_found(chars, '"王 伟"') == [(1, 7)]
        # the field boundary is no pair
        assert _fts_found(chars, '"损 王"') == []
        db.session.execute(text("UPDATE cases SET search_text = '鱼塘承包 李四' WHERE id = 7"))
        assert _fts_found(tri, '"道破损"') == [] and _fts_found(tri, '"塘承包"') == [(1, 7)]
        assert _fts_found(chars, '"王 伟"') == [] and _fts_found(chars, '"李 四"') == [(1, 7)]
        db.session.execute(text("UPDATE cases SET town_id = 2 WHERE id = 7"))
        assert _fts_found(tri, '"塘承包"') == [(2, 7)]
        assert _fts_found(chars, '"李"') == [(2, 7)]
        db.session.execute(text("DELETE FROM cases WHERE id = 7"))
        assert _fts_found(tri, '"塘承包"') == [] and _fts_found(chars, '"李"') == []
        for table in (tri, chars):
            db.session.execute(text(f"INSERT INTO {table}({table}) VALUES ('integrity-check')"))
        db.session.rollback()


def test_migrated_town_generations_follow_every_case_write(migrated_app):
    """On a migrated database (either dialect) a new town gets its generation row and every
    insert, update and delete of its cases raises it with a new token (the triggers must
    survive every later revision that rebuilds ``cases``)."""
    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context():
        db.session.execute(text(
            "INSERT INTO towns (id, name, county_code, county_name, created_at) "
            "VALUES (1, 't', '', '', '2026-01-01 00:00:00')"))
        seen = []

        def generation() -> tuple:
            row = db.session.execute(text(
                "SELECT generation, token FROM town_data_generations WHERE town_id = 1")).one()
            assert row not in seen
            seen.append(row)
            return row

        generation()
        db.session.execute(text(
            "INSERT INTO cases (id, town_id, kind, number, number_year, number_seq, title, "
            "summary, source, category, received_on, external_authority, group_size, "
            "is_repeat, status, due_is_exact, extension_days, extension_state, "
            "extension_reason, reply_text, exit_reason, agreement_text, is_risk, created_at, "
            "updated_at, version, search_text, is_open) VALUES (7, 1, 'petition', 'n', 2026, 1, "
            "'t', '', 'visit', '其他', '2026-01-01', '', 1, false, 'registered', true, 0, "
            "'none', '', '', '', '', false, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, "
            "'', true)"))
        generation()
        db.session.execute(text("UPDATE cases SET title = 'u' WHERE id = 7"))
        generation()
        db.session.execute(text(
            "INSERT INTO case_events (case_id, at, action, changes, note) "
            "VALUES (7, '2026-01-01 00:00:00', 'register', '{}', '')"))
        generation()
        db.session.execute(text("DELETE FROM case_events WHERE case_id = 7"))
        db.session.execute(text("DELETE FROM cases WHERE id = 7"))
        generation()
        db.session.rollback()


#: the revision before every search term was looked up by an index
BEFORE_SEARCH_GRAMS = "e1a7c3d9b260"


def test_search_indexes_are_built_from_the_cases_already_there_and_undone(migrated_app):
    """Upgraded on a database holding cases of two towns, the search finds one- and
    two-character terms and reference numbers by the new indexes, a town's lookup only in
    that town; downgraded, the old trigram index is back and still finds long terms."""
    from sqlalchemy import select

    from casetrack.cases import search_index
    from casetrack.cases.models import Case
    from casetrack.cases.queries import search_conditions

    _flask(migrated_app, "db", "upgrade", BEFORE_SEARCH_GRAMS)
    texts = {1: "镇1信(2026)1号 雷信交(2026)18号 村道破损 王伟 13800138000",
             2: "镇2信(2026)1号 雷信交(2026)18号 养殖场污染 王伟国",
             3: "镇1信(2026)2号 王 伟 路灯"}
    with migrated_app.app_context():
        for town in (1, 2):
            db.session.execute(text(_TOWN_SQL), {"id": town, "name": f"t{town}"})
        for case_id, body in texts.items():
            db.session.execute(text(_CASE_SQL), {"id": case_id, "town": 2 if case_id == 2 else 1,
                                                 "n": f"n{case_id}", "text": body})
        db.session.commit()

    def found(q: str, town_id: int | None = None) -> set[int]:
        stmt = select(Case.id).where(*search_conditions(q, town_id))
        if town_id is not None:
            stmt = stmt.where(Case.town_id == town_id)
        return set(db.session.scalars(stmt))

    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context():
        assert found("王伟") == {1, 2}
        assert found("王伟", town_id=1) == {1}
        assert found("伟") == {1, 2, 3}
        assert found("养殖") == {2}
        assert found("雷信交〔2026〕18号") == {1, 2}
        assert found("雷信交〔2026〕18号", town_id=2) == {2}
        assert found("损王") == set()  # two fields, not one word
        if db.engine.dialect.name == "postgresql":
            indexes = set(db.session.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")))
            assert {search_index.PG_INDEX, search_index.PG_GRAMS_INDEX} <= indexes
            assert "ix_cases_search_text_trgm" not in indexes
        db.session.remove()

    _flask(migrated_app, "db", "downgrade", BEFORE_SEARCH_GRAMS)
    with migrated_app.app_context():
        if db.engine.dialect.name == "sqlite":
            rows = db.session.scalars(text(
                "SELECT rowid FROM cases_search WHERE search_text MATCH '\"雷信交(2026)18号\"'"))
            assert set(rows) == {1, 2}
            assert not inspect(db.session.connection()).has_table(search_index.CHARS_TABLE)
        else:
            indexes = set(db.session.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'cases'")))
            assert "ix_cases_search_text_trgm" in indexes
            assert not {search_index.PG_INDEX, search_index.PG_GRAMS_INDEX} & indexes
        db.session.remove()
    _flask(migrated_app, "db", "upgrade")
    assert _schema_diff(migrated_app) == []


#: the revision before number prefixes moved from two columns of towns into their own table
BEFORE_PREFIXES = "fb127390e450"
PREFIXES = "f36cf0f0f48e"


def test_number_prefixes_move_into_their_table_with_the_data(migrated_app):
    """On a database holding towns, users and a case (foreign keys pointing at towns and
    users, which SQLite rebuilds), the two issuer codes of each town become rows of
    case_number_prefixes, the next registration numbers with them, the users lose the
    dead lock columns, and a downgrade puts everything back."""
    _flask(migrated_app, "db", "upgrade", BEFORE_PREFIXES)
    with migrated_app.app_context():
        for town_id, name, petition, dispute in ((1, "北和镇", "北和信", "北和调"),
                                                 (2, "南兴镇", "南兴信", "南兴调")):
            db.session.execute(text(
                "INSERT INTO towns (id, name, county_code, county_name, petition_issuer_code, "
                "dispute_issuer_code, created_at) VALUES (:id, :name, '440882', '雷州市', :p, "
                ":d, '2026-01-01 00:00:00')"), {"id": town_id, "name": name, "p": petition,
                                                "d": dispute})
            db.session.execute(text(
                "INSERT INTO villages (id, town_id, name, kind, sort_order, is_active) "
                "VALUES (:id, :id, :name, '行政村', 0, true)"), {"id": town_id, "name": name + "村"})
        db.session.execute(text(
            "INSERT INTO users (id, town_id, county_code, username, name, role, phone, email, "
            "password_hash, is_enabled, failed_logins, session_version, must_change_password, "
            "locale, created_at) VALUES (1, 1, '440882', 'super', '督办员', 'supervisor', '', "
            "'', 'x', true, 0, 1, false, '', '2026-01-01 00:00:00')"))
        db.session.commit()

    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context():
        rows = db.session.execute(text(
            "SELECT town_id, kind, code FROM case_number_prefixes ORDER BY town_id, kind")).all()
        assert [tuple(r) for r in rows] == [(1, "dispute", "北和调"), (1, "petition", "北和信"),
                                            (2, "dispute", "南兴调"), (2, "petition", "南兴信")]
        columns = {c["name"] for c in inspect(db.session.connection()).get_columns("towns")}
        assert not columns & {"petition_issuer_code", "dispute_issuer_code"}
        # the dead per-account login lock went too (throttling is Flask-Limiter's)
        columns = {c["name"] for c in inspect(db.session.connection()).get_columns("users")}
        assert not columns & {"failed_logins", "locked_until"}

        user = db.session.get(User, 1)
        now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
        case = svc.register_case(db.session, user, now, svc.CaseInput(
            kind="dispute", title="邻里排水纠纷", source="screening",
            received_on=dt.date(2026, 11, 20), category="邻里", village_id=1,
            parties=[svc.PartyInput(name="王五", role="applicant"),
                     svc.PartyInput(name="赵六", role="respondent")]))
        db.session.commit()
        assert case.number == "北和调〔2026〕1号"
        db.session.execute(text(
            "UPDATE case_number_prefixes SET code = '北和镇调' WHERE town_id = 1 "
            "AND kind = 'dispute'"))
        db.session.execute(text(
            "DELETE FROM case_number_prefixes WHERE town_id = 2 AND kind = 'petition'"))
        db.session.commit()
        db.session.remove()

    _flask(migrated_app, "db", "downgrade", BEFORE_PREFIXES)
    with migrated_app.app_context():
        rows = db.session.execute(text(
            "SELECT id, petition_issuer_code, dispute_issuer_code FROM towns ORDER BY id")).all()
        # a kind without a row comes back with the default the numbering used
        assert [tuple(r) for r in rows] == [(1, "北和信", "北和镇调"), (2, "信", "南兴调")]
        assert db.session.scalar(text("SELECT count(*) FROM cases")) == 1
        assert "case_number_prefixes" not in inspect(db.session.connection()).get_table_names()
        db.session.remove()
    _flask(migrated_app, "db", "upgrade")
    assert _schema_diff(migrated_app) == []


def _insert(conn, table: str, **given) -> int:
    """Insert a row into ``table`` as the schema stands at the current revision: ``given``
    values, and a plain value for every other NOT NULL column without a default."""
    from sqlalchemy import Boolean, Date, DateTime, Integer, MetaData, Numeric, Table

    t = Table(table, MetaData(), autoload_with=conn)
    values = dict(given)
    for col in t.columns:
        if col.name in values or col.nullable or col.primary_key or col.server_default:
            continue
        kind = col.type
        values[col.name] = (False if isinstance(kind, Boolean)
                            else 0 if isinstance(kind, (Integer, Numeric))
                            else dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
                            if isinstance(kind, DateTime)
                            else dt.date(2022, 1, 1) if isinstance(kind, Date)
                            else uuid.uuid4().hex[:getattr(kind, "length", None) or 8])
    return conn.execute(t.insert().values(**values).returning(t.c.id)).scalar_one() \
        if "id" in t.c else conn.execute(t.insert().values(**values))


def test_due_dates_backfill_matches_the_rules_case_by_case(migrated_app):
    """Revision 0545004bfa65 fills the new dates of existing cases in a few set-based
    statements; each value is what the rules give for that case alone: the statutory date
    where the statutory clock governed, the notify date counted from the day received with
    the holiday data (a town's override included), the local day of the last agreement or
    termination."""
    from zoneinfo import ZoneInfo

    import chinese_calendar

    from casetrack.deadlines.rules import DEFAULT_RULES, compute_due

    app = migrated_app
    _flask(app, "db", "upgrade", "c6f1a2b3d4e5")
    utc = dt.UTC
    received = [dt.date(2022, 9, 29), dt.date(2022, 9, 30), dt.date(2023, 1, 20),
                dt.date(2023, 6, 21), dt.date(2022, 3, 4), dt.date(2024, 12, 31)]
    # (case index, action, instant): 17:30 UTC is the next day in Beihe
    events = [(6, "resolve", dt.datetime(2022, 3, 5, 17, 30, tzinfo=utc)),
              (6, "terminate", dt.datetime(2022, 3, 1, 2, 0, tzinfo=utc)),
              (7, "terminate", dt.datetime(2023, 2, 1, 3, 0, tzinfo=utc)),
              (7, "mediate", dt.datetime(2023, 3, 1, 3, 0, tzinfo=utc)),
              (0, "accept", dt.datetime(2022, 9, 30, 3, 0, tzinfo=utc))]
    with app.app_context(), db.engine.begin() as conn:
        town = _insert(conn, "towns")
        _insert(conn, "holiday_overrides", day=dt.date(2023, 6, 26), is_workday=False)
        ids = []
        for i, day in enumerate(received):
            ids.append(_insert(conn, "cases", town_id=town, kind="petition", received_on=day,
                               number_seq=len(ids) + 1, due_on=day + dt.timedelta(days=60),
                               due_basis="statutory" if i % 2 else "external"))
        for day in (dt.date(2022, 3, 1), dt.date(2023, 1, 2), dt.date(2023, 1, 3)):
            ids.append(_insert(conn, "cases", town_id=town, kind="dispute", received_on=day,
                               number_seq=len(ids) + 1, due_on=day + dt.timedelta(days=30), due_basis="statutory"))
        for index, action, at in events:
            _insert(conn, "case_events", case_id=ids[index], action=action, at=at,
                    changes={})
    _flask(app, "db", "upgrade", "0545004bfa65")

    def is_workday(day):
        return False if day == dt.date(2023, 6, 26) else chinese_calendar.is_workday(day)

    rule = DEFAULT_RULES["petition.notify"]
    zone = ZoneInfo("Asia/Shanghai")
    mediated = {}
    for index, action, at in sorted(events, key=lambda e: e[2]):
        if action in ("resolve", "terminate"):
            mediated[ids[index]] = at.astimezone(zone).date()
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT id, kind, received_on, due_on, due_basis, statutory_due_on, notify_due_on, "
            "mediated_on FROM cases ORDER BY id")).all()
    as_date = lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v  # noqa: E731
    assert len(rows) == 9
    for cid, kind, got_received, due, basis, statutory, notify, mediated_on in rows:
        got_received = as_date(got_received)
        assert as_date(statutory) == (as_date(due) if basis == "statutory" else None)
        assert as_date(notify) == (compute_due(got_received, rule.amount, rule.unit, is_workday)
                                   if kind == "petition" else None)
        assert as_date(mediated_on) == mediated.get(cid)
    # the cases this test is about are there: a holiday crossing, the override, a night event
    notify = {as_date(r[2]): as_date(r[6]) for r in rows if r[1] == "petition"}
    assert notify[dt.date(2022, 9, 30)] > dt.date(2022, 10, 15)
    assert mediated[ids[6]] == dt.date(2022, 3, 6)


def test_resolved_disputes_move_to_the_follow_up_clock_with_a_timeline_entry(migrated_app):
    """Revision b7d41c9e2a61 keeps each dispute's mediation due date at its outcome and moves a
    dispute waiting for its follow-up visit to the visit's clock, on its timeline."""
    app = migrated_app
    _flask(app, "db", "upgrade", "a5c0f7e2d913")
    d = dt.date
    with app.app_context(), db.engine.begin() as conn:
        town = _insert(conn, "towns")

        def dispute(seq: int, status: str, **values) -> int:
            return _insert(conn, "cases", town_id=town, kind="dispute", status=status,
                           number_seq=seq, received_on=d(2022, 3, 1), due_on=d(2022, 4, 1),
                           due_rule="dispute.mediate", due_basis="statutory", **values)

        waiting = dispute(1, "resolved", mediated_on=d(2022, 3, 30),
                          follow_up_due_on=d(2022, 4, 29), is_open=True)
        closed = dispute(2, "closed", mediated_on=d(2022, 3, 30),
                         follow_up_due_on=d(2022, 4, 29), follow_up_on=d(2022, 4, 20),
                         is_open=False)
        mediating = dispute(3, "mediating", is_open=True)
    _flask(app, "db", "upgrade", "b7d41c9e2a61")
    as_date = lambda v: dt.date.fromisoformat(v) if isinstance(v, str) else v  # noqa: E731
    with app.app_context(), db.engine.connect() as conn:
        rows = {r[0]: r[1:] for r in conn.execute(text(
            "SELECT id, due_on, due_rule, mediation_due_on, due_start_on FROM cases"))}
        events = conn.execute(text(
            "SELECT case_id, action, changes FROM case_events ORDER BY id")).all()
    got = {cid: (as_date(due), rule, as_date(kept), as_date(start))
           for cid, (due, rule, kept, start) in rows.items()}
    assert got[waiting] == (d(2022, 4, 29), "dispute.follow_up", d(2022, 4, 1), d(2022, 3, 30))
    assert got[closed] == (d(2022, 4, 1), "dispute.mediate", d(2022, 4, 1), None)
    assert got[mediating] == (d(2022, 4, 1), "dispute.mediate", None, None)
    assert [(cid, action) for cid, action, _changes in events] == [(waiting, "recompute_due")]
    changes = events[0][2]
    changes = json.loads(changes) if isinstance(changes, str) else changes
    assert changes == {"due_on": ["2022-04-01", "2022-04-29"],
                       "due_rule": ["dispute.mediate", "dispute.follow_up"]}


#: the revision before cases.last_event_at
BEFORE_LAST_EVENT = "5e7a1c2d9b30"


def test_last_event_at_is_backfilled_and_kept_by_triggers(migrated_app):
    """Revision e5a9c3f1b7d2 fills ``cases.last_event_at`` from the events already there
    (NULL for a case without any) and installs the triggers that keep it on every later
    write, raw SQL included; its downgrade removes both."""
    app = migrated_app
    _flask(app, "db", "upgrade", BEFORE_LAST_EVENT)
    t = lambda day, hour=2: dt.datetime(2025, 1, day, hour, tzinfo=dt.UTC)  # noqa: E731
    with app.app_context(), db.engine.begin() as conn:
        town = _insert(conn, "towns")
        with_events = _insert(conn, "cases", town_id=town, kind="petition", number_seq=1,
                              status="handling")
        without = _insert(conn, "cases", town_id=town, kind="petition", number_seq=2,
                          status="registered")
        for day in (3, 9, 5):
            _insert(conn, "case_events", case_id=with_events, at=t(day), action="progress",
                    changes={})
    _flask(app, "db", "upgrade")

    def stored() -> dict:
        with app.app_context(), db.engine.connect() as conn:
            rows = conn.execute(text("SELECT id, last_event_at FROM cases")).all()
        parse = db.metadata.tables["cases"].c.last_event_at.type
        return {cid: parse.process_result_value(
            dt.datetime.fromisoformat(v) if isinstance(v, str) else v, db.engine.dialect)
            for cid, v in rows}

    with app.app_context():
        assert stored() == {with_events: t(9), without: None}
        with db.engine.begin() as conn:
            bind = db.metadata.tables["case_events"].c.at.type.process_bind_param
            conn.execute(text("INSERT INTO case_events (case_id, at, action, changes, note) "
                              "VALUES (:c, :at, 'progress', '{}', '')"),
                         {"c": without, "at": bind(t(20), db.engine.dialect)})
            conn.execute(text("DELETE FROM case_events WHERE id = (SELECT id FROM "
                              "case_events WHERE case_id = :c ORDER BY at DESC LIMIT 1)"),
                         {"c": with_events})
        assert stored() == {with_events: t(5), without: t(20)}
    _flask(app, "db", "downgrade", BEFORE_LAST_EVENT)
    with app.app_context():
        assert "last_event_at" not in {c["name"] for c in inspect(db.engine).get_columns("cases")}
        with db.engine.begin() as conn:  # no trigger left behind writing to the column
            conn.execute(text("DELETE FROM case_events"))
