"""The report sentences page says when the cut-off it was given is no day or out of range
(as the dashboard and the monthly summary do), instead of silently counting as of another
day (2026-02-30 became today) or printing a cut-off decades ahead (状态截至2099-12-31)."""

from __future__ import annotations


def test_a_bad_cut_off_is_said_and_the_default_is_counted(client, auth, world):
    auth.login("leader")
    for bad in ("2026-02-30", "2099-12-31", "0001-01-01"):
        resp = client.get(f"/reports/sentences?year=2026&as_of={bad}")
        page = resp.get_data(as_text=True)
        assert resp.status_code == 400, bad
        assert f"截至日期“{bad}”无效或超出可统计的范围" in page
        assert "状态截至2026-11-23" in page  # this year: as of today (the fixed now)
    resp = client.get("/reports/sentences?year=2026&as_of=2026-10-31")
    assert resp.status_code == 200 and "状态截至2026-10-31" in resp.get_data(as_text=True)
