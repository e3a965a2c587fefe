"""GET /api/v1/stats/summary: the same figures and parameters as ``flask stats summary``."""

from __future__ import annotations

import json

from api_support import Api, make_dispute, petition_body, token_for


def test_summary_matches_the_cli(world, client, now, runner):
    sup = Api(client, token_for(world.supervisor, now))
    for n in range(3):
        sup.post("/cases", json=petition_body(world, external_ref=f"R-{n}"))
    make_dispute(world, now)
    resp = sup.get("/stats/summary?from=2026-01-01&to=2026-12-31&as_of=2026-11-23")
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()["data"]
    assert data["town"] == "北和镇" and data["as_of"] == "2026-11-23"
    assert data["totals"]["counts"]["total"] == 4
    cli = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to", "2026-12-31",
                              "--as-of", "2026-11-23", "--town", "北和镇", "--json"])
    assert cli.exit_code == 0, cli.output
    expected = json.loads(cli.output)
    for key in ("totals", "by_kind", "by_source", "period", "as_of", "metrics"):
        assert data[key] == expected[key], key
    petitions = sup.get("/stats/summary?from=2026-01-01&to=2026-12-31&kind=petition")
    assert petitions.get_json()["data"]["totals"]["counts"]["total"] == 3
    assigned = sup.get("/stats/summary?from=2026-01-01&to=2026-12-31&source=assigned&town=北和镇")
    assert assigned.get_json()["data"]["totals"]["counts"]["total"] == 3


def test_summary_refusals(world, client, now):
    handler = Api(client, token_for(world.handler1, now))
    assert handler.get("/stats/summary?from=2026-01-01&to=2026-12-31").status_code == 403
    sup = Api(client, token_for(world.supervisor, now))
    resp = sup.get("/stats/summary?from=2026-12-31&to=2026-01-01")
    assert resp.status_code == 400 and "from" in resp.get_json()["error"]["fields"]
    assert resp.get_json()["error"]["code"] == "invalid_period"
    # a day out of any sensible range: 400 invalid_date naming the argument
    for args, field in (("from=1900-01-01&to=2026-12-31", "from"),
                        ("from=2026-01-01&to=2026-12-31&as_of=1900-01-01", "as_of"),
                        ("from=2026-01-01&to=2099-12-31", "to")):
        resp = sup.get(f"/stats/summary?{args}")
        assert resp.status_code == 400, args
        err = resp.get_json()["error"]
        assert err["code"] == "invalid_date" and set(err["fields"]) == {field}
    resp = sup.get("/stats/summary?from=2026-01-01&to=2026-12-31&town=南兴镇")
    assert resp.status_code == 404
    resp = sup.get("/stats/summary?to=2026-12-31")
    assert resp.status_code == 422 and resp.get_json()["error"]["fields"] == {"from": "必填"}
    other = Api(client, token_for(world.other_super, now))
    sup.post("/cases", json=petition_body(world))
    resp = other.get("/stats/summary?from=2026-01-01&to=2026-12-31")
    assert resp.get_json()["data"]["totals"]["counts"]["total"] == 0


def test_a_cut_off_after_today_or_before_the_period_is_refused(world, client, now, runner,
                                                               tmp_path):
    """Today is 2026-11-23: a cut-off still to come would return projections as fact."""
    sup = Api(client, token_for(world.supervisor, now))
    resp = sup.get("/stats/summary?from=2026-01-01&to=2026-11-23&as_of=2026-12-01")
    err = resp.get_json()["error"]
    assert resp.status_code == 400 and err["code"] == "invalid_date"
    assert err["fields"] == {"as_of": "不能晚于今天（2026-11-23）"}
    resp = sup.get("/stats/summary?from=2026-01-01&to=2026-11-23&as_of=2025-12-31")
    err = resp.get_json()["error"]
    assert resp.status_code == 400 and err["code"] == "invalid_period"
    assert set(err["fields"]) == {"as_of"}
    # an end still to come: the cut-off defaults to today, not to that end
    resp = sup.get("/stats/summary?from=2026-01-01&to=2026-12-31")
    assert resp.status_code == 200 and resp.get_json()["data"]["as_of"] == "2026-11-23"
    # the CLI the API mirrors refuses the same
    for as_of in ("2026-12-01", "2025-12-31"):
        out = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to",
                                  "2026-11-23", "--as-of", as_of])
        assert out.exit_code == 2 and "--as-of" in out.output, as_of
    out = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to", "2026-12-31",
                              "--json"])
    assert out.exit_code == 0 and '"as_of": "2026-11-23"' in out.output
    for args in (["monthly", "--month", "2026-11", "--as-of", "2026-12-01",
                  "--out", str(tmp_path / "x.pdf")],
                 ["sentences", "--year", "2026", "--as-of", "2025-12-31"],
                 ["sentences", "--year", "2027"]):
        out = runner.invoke(args=["reports", *args, "--town", "北和镇"])
        assert out.exit_code == 2 and "--as-of" in out.output, args
