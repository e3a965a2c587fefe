"""IDs and phones typed in full-width digits are stored in one form, through the form, the
API and the import alike, so the same person's next case is a repeat (重信重访)."""

from __future__ import annotations

from sqlalchemy import select
from views_support import ID_ZHANG, login_as, make_petition

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")
ID_WIDE = ID_ZHANG.translate(FULL_WIDTH)  # ４４０８８２１９８００１０１００１３
PHONE_WIDE = "１３８ ００１３ ８０００"


def _newest() -> Case:
    db.session.rollback()
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()


def test_form_stores_full_width_id_and_phone_folded_and_finds_the_repeat(client, world, now):
    earlier = make_petition(world, now, title="第一次反映（虚构）")
    login_as(client, "super")
    resp = client.post("/cases/new?kind=petition", data={
        "kind": "petition", "title": "再次反映（虚构）", "source": "assigned",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-20", "external_ref": "雷信交（２０２６）１０２号",
        "external_due_on": "2027-01-05", "external_authority": "雷州市信访局",
        "group_size": "1", "parties-0-role": "petitioner", "parties-0-name": "张三（虚构）",
        "parties-0-id_number": ID_WIDE, "parties-0-phone": PHONE_WIDE, "submit": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    case = _newest()
    party = case.parties[0]
    assert party.id_number == ID_ZHANG and party.phone == "13800138000"
    assert case.is_repeat
    # the reference is stored as typed, compared through its canonical key
    assert case.external_ref == "雷信交（２０２６）１０２号"
    assert case.external_ref_key == "雷信交(2026)102号"
    assert earlier.id != case.id


def test_correction_folds_the_phone_and_search_follows(client, world, now):
    case = make_petition(world, now, title="更正前的标题（虚构）")
    svc.correct_case(db.session, world.supervisor, now, case, "电话记错", title="更正后的标题",
                     party_id=case.parties[0].id, party_name="张三丰（虚构）",
                     party_phone="１３９ ００１３ ９０００")
    db.session.commit()
    case = _newest()
    assert case.parties[0].phone == "13900139000"
    # the search text follows the correction (title and party, through the flush hook)
    assert "更正后的标题" in case.search_text and "更正前" not in case.search_text
    assert "张三丰" in case.search_text and "13900139000" in case.search_text


def test_registration_page_warns_of_the_same_reference_in_another_spelling(client, world, now):
    earlier = make_petition(world, now, title="第一次登记（虚构）")  # 雷信交〔2026〕101号
    login_as(client, "super")
    form = {
        "kind": "petition", "title": "再次登记（虚构）", "source": "assigned",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-20", "external_ref": "雷信交[2026]101号",
        "external_due_on": "2027-01-05", "external_authority": "雷州市信访局",
        "group_size": "1", "parties-0-role": "petitioner", "parties-0-name": "李四（虚构）",
        "check": "1"}
    page = client.post("/cases/new?kind=petition", data=form).get_data(as_text=True)
    assert 'id="same-reference"' in page and earlier.number in page
    page = client.post("/cases/new?kind=petition",
                       data={**form, "external_ref": "雷信交〔2026〕102号"}).get_data(as_text=True)
    assert 'id="same-reference"' not in page
