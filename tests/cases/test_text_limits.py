"""The sizes of the texts a case holds are the same on the page, in the API and in an import:
a registration or a correction on the page is refused, not stored, when a text is longer than
the API allows (a summary of millions of characters held SQLite's write lock for half an
hour while the search index spaced it out), and a received date before 2000 is refused."""

from __future__ import annotations

from sqlalchemy import func, select
from views_support import dispute_form, login_as, make_petition, text

from casetrack.cases.models import Case
from casetrack.extensions import db


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Case))


def test_the_registration_page_refuses_a_summary_longer_than_the_api_allows(client, world):
    login_as(client, "grid1")
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(world, summary="纠" * 20_001))
    assert resp.status_code == 422
    assert "不能超过20000个字" in text(resp)
    assert _count() == 0
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(world, summary="纠" * 20_000))
    assert resp.status_code == 302


def test_the_registration_page_refuses_party_texts_longer_than_their_columns(client, world):
    login_as(client, "grid1")
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(
        world, **{"parties-0-name": "王" * 65, "parties-1-address": "北" * 201}))
    assert resp.status_code == 422
    page = text(resp)
    assert "不能超过64个字" in page and "不能超过200个字" in page
    assert _count() == 0


def test_the_registration_page_refuses_a_received_date_before_2000(client, world):
    login_as(client, "grid1")
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(world, received_on="1900-01-01"))
    assert resp.status_code == 422
    assert "日期 1900-01-01 超出合理范围" in text(resp)
    assert _count() == 0


def test_a_correction_on_the_page_keeps_to_the_declared_length(client, world, now):
    case = make_petition(world, now)
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/correct", data={
        "summary": "改" * 20_001, "reason": "更正内容（虚构）", "version": str(case.version)})
    assert resp.status_code == 422
    assert "不能超过20000个字" in text(resp)
    db.session.expire_all()
    assert db.session.get(Case, case.id).summary == ""


def test_a_step_note_on_the_page_keeps_to_the_declared_length(client, world, now):
    case = make_petition(world, now)
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/reject", data={
        "reason": "理" * 5_001, "version": str(case.version)})
    assert resp.status_code == 422
    assert "不能超过5000个字" in text(resp)
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == "registered"
