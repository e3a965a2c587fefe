"""The state machine (``casetrack.cases.steps``) and field rules (``casetrack.cases.rules``): pure, no app, no database.

The expected tables below are written out from DOMAIN.md independently of the code, so a
change to the state machine has to be made (and reviewed) in both places.
"""

from __future__ import annotations

import pytest

from casetrack.cases import rules, steps
from casetrack.cases.models import CaseKind, CaseStatus

S = CaseStatus

#: (kind, action) -> (statuses it may start from, status after; None = unchanged)
EXPECTED: dict[tuple[str, str], tuple[set[str], str | None]] = {
    # petitions: registered → accepted → handling → replied → closed, side exits
    ("petition", "accept"): ({S.REGISTERED}, S.ACCEPTED),
    ("petition", "reject"): ({S.REGISTERED}, S.NOT_ACCEPTED),
    ("petition", "return"): ({S.REGISTERED, S.ACCEPTED}, S.RETURNED),
    ("petition", "assign"): ({S.ACCEPTED, S.HANDLING}, S.HANDLING),
    ("petition", "progress"): ({S.ACCEPTED, S.HANDLING, S.REPLIED}, None),
    ("petition", "extend_request"): ({S.ACCEPTED, S.HANDLING}, None),
    ("petition", "extend_decide"): ({S.ACCEPTED, S.HANDLING}, None),
    # 上级同意延期: the assigning authority grants more time while the case is open
    ("petition", "authority_extend"): (
        {S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING, S.REPLIED}, None),
    ("petition", "reply"): ({S.HANDLING}, S.REPLIED),
    ("petition", "close"): ({S.REPLIED}, S.CLOSED),
    ("petition", "rework"): ({S.CLOSED}, S.HANDLING),
    # reply approval: the handler's draft waits for a leader (town setting)
    ("petition", "submit_reply"): ({S.HANDLING}, S.REPLY_PENDING),
    ("petition", "approve_reply"): ({S.REPLY_PENDING}, S.REPLIED),
    ("petition", "return_reply"): ({S.REPLY_PENDING}, S.HANDLING),
    # 复查 / 复核 (Arts. 35-36): after the written reply, then after the review
    ("petition", "request_review"): ({S.REPLIED, S.CLOSED}, S.REVIEWING),
    ("petition", "decide_review"): ({S.REVIEWING}, S.REVIEWED),
    ("petition", "request_reexamination"): ({S.REVIEWED}, S.REEXAMINING),
    ("petition", "hearing"): ({S.REEXAMINING}, None),
    ("petition", "decide_reexamination"): ({S.REEXAMINING}, S.REEXAMINED),
    # 更正: any status
    ("petition", "correct"): (set(CaseStatus) - {S.MEDIATING, S.RESOLVED, S.TERMINATED},
                              None),
    # disputes: registered → mediating → resolved / terminated → (follow-up) → closed
    ("dispute", "assign"): ({S.REGISTERED, S.MEDIATING}, None),
    ("dispute", "start_mediation"): ({S.REGISTERED}, S.MEDIATING),
    ("dispute", "mediation_session"): ({S.MEDIATING}, None),
    ("dispute", "escalate"): ({S.MEDIATING, S.TERMINATED}, S.MEDIATING),
    ("dispute", "extend_request"): ({S.REGISTERED, S.MEDIATING}, None),
    ("dispute", "extend_decide"): ({S.REGISTERED, S.MEDIATING}, None),
    ("dispute", "resolve"): ({S.MEDIATING}, S.RESOLVED),
    ("dispute", "terminate"): ({S.MEDIATING}, S.TERMINATED),
    ("dispute", "follow_up"): ({S.RESOLVED}, None),
    ("dispute", "flag_risk"): ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED}, None),
    ("dispute", "progress"): ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED}, None),
    ("dispute", "close"): ({S.RESOLVED, S.TERMINATED}, S.CLOSED),
    # 司法确认 (人民调解法 Art. 33): after an agreement, also once closed
    ("dispute", "judicial_confirmation"): ({S.RESOLVED, S.CLOSED}, None),
    ("dispute", "correct"): ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED, S.CLOSED},
                             None),
}

ALLOWED = sorted(
    (kind, action, source)
    for (kind, action), (sources, _target) in EXPECTED.items()
    for source in sources
)
ALL_STATUSES = list(CaseStatus)
STATUSES_OF = {
    "petition": {S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLIED, S.CLOSED, S.NOT_ACCEPTED,
                 S.RETURNED, S.REPLY_PENDING, S.REVIEWING, S.REVIEWED, S.REEXAMINING,
                 S.REEXAMINED},
    "dispute": {S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED, S.CLOSED},
}


def test_tables_are_exactly_the_documented_state_machine():
    actual = {
        (str(kind), action): (set(t.sources), t.target)
        for kind in CaseKind
        for action, t in steps.transitions_of(kind).items()
    }
    assert actual == EXPECTED


@pytest.mark.parametrize("kind", ["petition", "dispute"])
def test_every_transition_has_a_chinese_label_and_its_own_action(kind):
    for action, t in steps.transitions_of(kind).items():
        assert t.action == action
        assert t.label and not t.label.isascii()


@pytest.mark.parametrize(("kind", "action", "source"), ALLOWED)
def test_every_allowed_transition(kind, action, source):
    assert steps.can_transition(kind, source, action)
    assert action in steps.actions_from(kind, source)
    _sources, target = EXPECTED[(kind, action)]
    t = steps.transition_for(kind, action)
    assert t is not None and t.target == target
    # after the step the case is in a status the kind knows (or unchanged)
    after = target or source
    assert after in STATUSES_OF[kind]


@pytest.mark.parametrize("kind", ["petition", "dispute"])
def test_everything_not_in_the_table_is_forbidden(kind):
    actions = {a for (k, a) in EXPECTED if k == kind} | {"no_such_action"}
    for status in ALL_STATUSES:
        for action in actions:
            expected = (kind, action, status) in set(ALLOWED)
            assert steps.can_transition(kind, status, action) is expected, (kind, status, action)


@pytest.mark.parametrize(
    ("kind", "status", "action"),
    [
        ("petition", S.REGISTERED, "close"),  # closing a case that was never accepted
        ("petition", S.REGISTERED, "reply"),
        ("petition", S.HANDLING, "rework"),
        ("petition", S.HANDLING, "accept"),
        ("petition", S.HANDLING, "return"),  # only before it is handled
        ("petition", S.REPLIED, "extend_request"),
        ("petition", S.CLOSED, "close"),
        ("petition", S.NOT_ACCEPTED, "accept"),
        ("petition", S.RETURNED, "rework"),
        ("petition", S.REGISTERED, "resolve"),  # a dispute step on a petition
        ("dispute", S.REGISTERED, "resolve"),
        ("dispute", S.REGISTERED, "close"),
        ("dispute", S.MEDIATING, "close"),
        ("dispute", S.CLOSED, "rework"),
        ("dispute", S.CLOSED, "start_mediation"),
        ("dispute", S.RESOLVED, "terminate"),
        ("dispute", S.TERMINATED, "follow_up"),
        ("dispute", S.REGISTERED, "accept"),  # a petition step on a dispute
    ],
)
def test_sample_of_forbidden_transitions(kind, status, action):
    assert not steps.can_transition(kind, status, action)
    assert action not in steps.actions_from(kind, status)


def test_happy_paths_reach_closed():
    def walk(kind: str, actions: list[str]) -> str:
        status: str = S.REGISTERED
        for action in actions:
            assert steps.can_transition(kind, status, action), (kind, status, action)
            status = steps.transition_for(kind, action).target or status
        return status

    assert walk("petition", ["accept", "assign", "extend_request", "extend_decide", "reply",
                             "close"]) == S.CLOSED
    assert walk("petition", ["accept", "assign", "reply", "close", "rework", "reply",
                             "close"]) == S.CLOSED
    assert walk("dispute", ["start_mediation", "mediation_session", "escalate", "resolve",
                            "follow_up", "close"]) == S.CLOSED
    assert walk("dispute", ["start_mediation", "terminate", "escalate", "terminate",
                            "close"]) == S.CLOSED


def test_terminal_statuses_allow_nothing_but_rework_review_and_corrections():
    assert set(steps.actions_from("petition", S.CLOSED)) == {"rework", "request_review",
                                                             "correct"}
    for status in (S.NOT_ACCEPTED, S.RETURNED, S.REEXAMINED):
        assert steps.actions_from("petition", status) == ["correct"]
    assert set(steps.actions_from("dispute", S.CLOSED)) == {"judicial_confirmation", "correct"}
    assert not rules.is_open_status(S.REEXAMINED) and rules.is_open_status(S.REVIEWING)
    assert not rules.is_open_status(S.CLOSED)
    assert rules.is_open_status(S.MEDIATING)


def test_every_status_has_a_label():
    assert set(rules.STATUS_LABELS) == set(CaseStatus)
    assert rules.STATUS_LABELS[S.NOT_ACCEPTED] == "不予受理"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("code", "year", "seq", "expected"),
    [
        ("北和信", 2026, 1, "北和信〔2026〕1号"),
        ("北和信", 2022, 18, "北和信〔2022〕18号"),
        ("北和调", 2026, 7, "北和调〔2026〕7号"),
        ("北和调", 2026, 1024, "北和调〔2026〕1024号"),
    ],
)
def test_number_format_gb_t_9704(code, year, seq, expected):
    number = rules.format_number(code, year, seq)
    assert number == expected
    assert "第" not in number and "〔0" not in number and "〕0" not in number
    assert "[" not in number and "(" not in number  # hexagonal brackets, not ASCII ones


# --------------------------------------------------------------------------- ID numbers


def test_id_check_digit_of_the_standard_example():
    # GB 11643-1999's own example: 11010519491231002X
    assert rules.id_check_digit("11010519491231002") == "X"
    assert rules.validate_id_number("11010519491231002X") is None


@pytest.mark.parametrize("value", [
    "11010519491231002X", "11010519491231002x", " 11010519491231002X ", "440882198001010013",
])
def test_valid_id_numbers(value):
    assert rules.validate_id_number(value) is None


@pytest.mark.parametrize(("value", "fragment"), [
    ("110105194912310021", "校验位"),  # wrong check digit (should be X)
    ("440882198001010012", "校验位"),
    ("440882198002300013", "出生日期"),  # 30 February
    ("440882198013010013", "出生日期"),  # month 13
    ("44088219800101001", "18位"),  # 17 characters
    ("4408821980010100133", "18位"),  # 19 characters
    ("44088219800101001A", "18位"),  # a letter other than X
    ("X40882198001010013", "18位"),
    ("", "18位"),
])
def test_invalid_id_numbers(value, fragment):
    message = rules.validate_id_number(value)
    assert message is not None and fragment in message


def test_mask_shows_first_six_and_last_four():
    assert rules.mask_id_number("44088219800101123X") == "440882********123X"
    assert rules.mask_id_number("11010519491231002X") == "110105********002X"
    assert rules.mask_id_number(None) == ""
    assert rules.mask_id_number("") == ""
    assert rules.mask_id_number("12345") == "*****"


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize("value", [
    "13800138000", "19912345678", "138 0013 8000", "0759-8888888", "07598888888",
    "010-12345678", "020-8888888",
])
def test_valid_phones(value):
    assert rules.validate_phone(value) is None


@pytest.mark.parametrize("value", [
    "12800138000",  # no mobile prefix 12
    "1380013800",  # 10 digits
    "138001380001",  # 12 digits
    "8888888",  # landline without area code
    "759-8888888",  # area code without the leading 0
    "abc",
    "",
])
def test_invalid_phones(value):
    assert "电话号码" in rules.validate_phone(value)
