"""The import stores IDs and phones typed in full-width digits in their one folded form."""

from __future__ import annotations

from import_support import ID_OK, row, xlsx_bytes
from sqlalchemy import func, select

from casetrack.cases.models import Case, CaseStatus, Party
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


def test_import_cleans_control_characters_in_text(world, runner, tmp_path):
    """The import cleans text like the page and the API: in a single-line field a tab or a
    line break becomes a space and a direction override is dropped; a multi-line field keeps
    its line breaks and drops the override."""
    path = tmp_path / "交办清单.xlsx"
    path.write_bytes(xlsx_bytes([row(8, 标题="村道\u202e破损\t反映（虚构）",
                                    摘要="第一行\n\u2066第二行\u2069")]))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    case = _newest()
    assert case.title == "村道破损 反映（虚构）"
    assert case.summary == "第一行\n第二行"


def test_import_refuses_a_matter_already_reexamined(world, runner, tmp_path):
    """信访工作条例 Art. 36: after re-examination the same matter (same ID number, same
    category) is not accepted again, also through the import: the file is refused and no row
    is written."""
    first = tmp_path / "first.xlsx"
    first.write_bytes(xlsx_bytes([row(9)]))
    assert runner.invoke(args=["cases", "import", str(first), "--user", "super"]).exit_code == 0
    done = _newest()
    done.status = CaseStatus.REEXAMINED
    db.session.commit()
    count = db.session.scalar(select(func.count()).select_from(Case))

    again = tmp_path / "again.xlsx"
    again.write_bytes(xlsx_bytes([row(10, 信访人姓名="另一个名字（虚构）")]))
    result = runner.invoke(args=["cases", "import", str(again), "--user", "super"])
    assert result.exit_code != 0
    assert done.number in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == count
