"""Search edge cases through the list page and the API: a case number typed with a space
inside, and queries made of one LIKE wildcard or bracket character."""

from __future__ import annotations

import pytest
from views_support import case_numbers, login_as, make_dispute, make_petition, text

from casetrack.auth.tokens import create_token
from casetrack.extensions import db


@pytest.fixture
def found(client, world, now):
    """Search through the list page and through the API; both must agree."""
    _row, token = create_token(db.session, world.supervisor, now, "search")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    login_as(client, "super")

    def search(q: str) -> set[str]:
        page = case_numbers(text(client.get("/cases", query_string={"q": q})))
        resp = client.get("/api/v1/cases", query_string={"q": q, "per_page": 100},
                          headers=headers)
        assert resp.status_code == 200, resp.get_json()
        api = {c["number"] for c in resp.get_json()["data"]}
        assert page == api, q
        return page

    return search


def test_a_case_number_with_a_space_inside_finds_the_case(world, now, found):
    first = make_petition(world, now)
    twelfth = None
    for _ in range(11):
        twelfth = make_petition(world, now, title="反映路灯不亮（虚构）")
    assert (first.number, twelfth.number) == ("北和信〔2026〕1号", "北和信〔2026〕12号")
    for typed in ("北和信2026 1号", "北和信2026 1 号", "北和信２０２６　１号", "北和信20261号",
                  "北和信 2026 1号", "北和信(2026) 1号"):
        assert found(typed) == {first.number}, typed
    assert found("北和信2026 12号") == {twelfth.number}
    # a bracket-less reference stored as typed is still found as typed
    assert found("雷信交2026 101号") == found("雷信交〔2026〕101号")


def test_a_lone_wildcard_or_bracket_matches_only_rows_that_contain_it(world, now, found):
    plain = make_petition(world, now, title="反映村道破损（虚构）")
    percent = make_petition(world, now, title="补贴只发放了80%（虚构）")
    underscore = make_dispute(world, now, title="邻里纠纷 编号A_1（虚构）")
    bracket = make_dispute(world, now, title="宅基地纠纷[待核实]（虚构）")
    assert found("%") == {percent.number}
    assert found("_") == {underscore.number}
    assert found("[") == {bracket.number}
    assert found("]") == {bracket.number}
    assert found("%%") == set()
    assert found("[ %") == set()
    assert plain.number not in found("[") | found("%") | found("_")
