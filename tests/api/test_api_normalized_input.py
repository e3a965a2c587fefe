"""The API stores IDs and phones typed in full-width digits in their one folded form."""

from __future__ import annotations

from api_support import ID_ZHANG, petition_body, token_for
from sqlalchemy import select

from casetrack.cases.models import Case
from casetrack.extensions import db

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
PHONE_WIDE = "１３８ ００１３ ８０００"


def _newest() -> Case:
    db.session.rollback()
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()


ID_WIDE = ID_ZHANG.translate(FULL_WIDTH)


def test_api_stores_full_width_id_folded(client, world, now):
    headers = {"Authorization": f"Bearer {token_for(world.supervisor, now)}"}
    first = client.post("/api/v1/cases", json=petition_body(world), headers=headers)
    assert first.status_code == 201, first.get_json()
    body = petition_body(world, parties=[{"name": "张三（虚构）", "id_number": ID_WIDE,
                                          "phone": PHONE_WIDE}],
                        external_ref="雷信交〔2026〕102号")
    resp = client.post("/api/v1/cases", json=body, headers=headers)
    assert resp.status_code == 201, resp.get_json()
    case = _newest()
    assert case.parties[0].id_number == ID_ZHANG and case.is_repeat
    assert case.parties[0].phone == "13800138000"
