"""The names people see for a case's registered facts, stated once.

The registration form labels its fields with ``FORM_LABELS``, the ledger (台账 .xlsx / CSV)
heads its columns with ``LEDGER_HEADERS``, and the import of a list of assigned petitions
recognises both as column headers: a file the app exported, or laid out like its form,
imports back without a column to map by hand. Both dicts are keyed by the import's field
names (``cases/importing.py`` ``COLUMNS``) where a column fills one; the ledger's other
columns are computed from a case's history (状态, 办结日期...) and are never imported.
"""

from __future__ import annotations

from casetrack.core.i18n import N_

#: the registration form's labels (cases/forms.py), translated when shown
FORM_LABELS = {
    "title": N_("事项标题"),
    "summary": N_("主要内容"),
    "source": N_("来源"),
    "petition_class": N_("信访类别"),
    "category": N_("内容分类"),
    "village": N_("所在村（居）"),
    "received_on": N_("收到日期"),
    "external_ref": N_("上级交办文号"),
    "external_due_on": N_("上级规定办理期限"),
    "external_authority": N_("交办机关"),
    "group_size": N_("人数"),
    "party_name": N_("姓名"),
    "id_number": N_("身份证号"),
    "phone": N_("联系电话"),
    "address": N_("住址"),
}

#: the ledger's column headers in their order (reports/spreadsheet.py); the export is in
#: Chinese whatever the interface language, so these are plain text
LEDGER_HEADERS = {
    "row": "序号",
    "number": "编号",
    "kind": "类型",
    "source": "来源",
    "external_ref": "上级交办文号",
    "petition_class": "信访类别",
    "category": "类别",
    "title": "事项",
    "party_name": "当事人",
    "village": "村（居）",
    "received_on": "收到日期",
    "accepted_on": "受理日期",
    "due_on": "办理期限",
    "warning": "预警",
    "clock": "期限类型",
    "external_due_on": "上级规定期限",
    "external_authority": "交办机关",
    "due_is_provisional": "期限暂定",
    "statutory_due_on": "法定期限",
    "due_basis": "期限依据",
    "unit": "承办单位",
    "handler": "承办人",
    "status": "状态",
    "outcome": "处理意见",
    "reply_delivered_on": "答复送达日期",
    "closed_on": "办结日期",
    "rating": "评价",
    "resolution_level": "化解层级",
}
