"""The import stores IDs and phones typed in full-width digits in their one folded form."""

from __future__ import annotations

from import_support import ID_OK, row, xlsx_bytes
from sqlalchemy import select

from casetrack.cases.models import Case, Party
from casetrack.extensions import db

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
PHONE_WIDE = "１３８ ００１３ ８０００"


def _newest() -> Case:
    db.session.rollback()
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()


ID_WIDE = ID_OK.translate(FULL_WIDTH)


def test_import_stores_full_width_id_folded(world, runner, tmp_path):
    path = tmp_path / "交办清单.xlsx"
    path.write_bytes(xlsx_bytes([row(6), row(7, 身份证号=ID_WIDE, 联系电话=PHONE_WIDE)]))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    case = _newest()
    party = db.session.scalars(select(Party).where(Party.case_id == case.id)).one()
    assert party.id_number == ID_OK and party.phone == "13800138000"
    assert case.is_repeat
