"""The deadline rules of one town: the defaults of ``rules.DEFAULT_RULES``, then the
installation's ``DEADLINE_RULES`` setting, then the town's own overrides (town setting
``deadlines.rules``). Every clock of a case, every refusal that states a limit, every page
wording and every figure reads its rule here, so a town that changes a rule changes all of
them together.

The merged overrides are read once per transaction of a session and town (an import asks for
them thousands of times) and dropped when the transaction ends or a rule is changed.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from casetrack.core.errors import ValidationError
from casetrack.core.i18n import N_, Msg
from casetrack.deadlines.rules import (
    DEFAULT_RULES,
    OVERRIDABLE,
    DayUnit,
    DeadlineRule,
    resolve_rule,
)
from casetrack.org.settings import get_setting, set_setting

#: the town setting that holds ``{rule code: {field: value}}``
RULES_KEY = "deadlines.rules"
_CACHE_KEY = "casetrack.town_rules"
#: bounds of what a town may set
MAX_AMOUNT = 366


def town_overrides(session: Session, town_id: int | None) -> dict[str, dict[str, Any]]:
    """``{code: {field: value}}``: the installation's overrides with the town's on top."""
    cache = session.info.setdefault(_CACHE_KEY, {})
    if town_id not in cache:
        merged: dict[str, dict[str, Any]] = {
            code: dict(values)
            for code, values in (current_app.config.get("DEADLINE_RULES") or {}).items()
        }
        if town_id is not None:
            stored = get_setting(session, town_id, RULES_KEY, None) or {}
            for code, values in stored.items():
                merged.setdefault(code, {}).update(values)
        cache[town_id] = merged
    return cache[town_id]


def town_rule(session: Session, town_id: int | None, code: str) -> DeadlineRule:
    """Rule ``code`` as it applies in the town ``town_id`` (None: the installation's)."""
    return resolve_rule(code, town_overrides(session, town_id))


def town_rules(session: Session, town_id: int | None) -> list[DeadlineRule]:
    """Every rule as it applies in the town, in the order of ``DEFAULT_RULES``."""
    overrides = town_overrides(session, town_id)
    return [resolve_rule(code, overrides) for code in DEFAULT_RULES]


def forget_town_rules(session: Session) -> None:
    """Drop the session's copy: the next lookup reads the settings again."""
    session.info.pop(_CACHE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:
        forget_town_rules(session)


def store_town_rule(session: Session, town_id: int, code: str, *, amount: int,
                    unit: str | None = None, max_extension_days: int | None = None) -> DeadlineRule:
    """Validate and store a town's values for rule ``code``; returns the rule as it now
    applies. Permission and the recomputation of due dates are the caller's
    (``deadlines.services.set_town_rule``, through ``cases.due_updates.change_town_rule``)."""
    if code not in DEFAULT_RULES:
        raise ValidationError(N_("期限规则不存在"), fields={"rule": N_("期限规则不存在")})
    errors: dict[str, str] = {}
    if not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        errors["amount"] = Msg(N_("期限应在1至%(n)s之间"), n=MAX_AMOUNT)
    if unit is not None and unit not in {u.value for u in DayUnit}:
        errors["unit"] = N_("单位无效（日、工作日或月）")
    base = DEFAULT_RULES[code]
    if max_extension_days is not None:
        if not base.extendable:
            errors["max_extension_days"] = N_("该期限不能延长")
        elif not isinstance(max_extension_days, int) or not 1 <= max_extension_days <= MAX_AMOUNT:
            errors["max_extension_days"] = Msg(N_("最长延期天数应在1至%(n)s之间"), n=MAX_AMOUNT)
    if errors:
        raise ValidationError.of(errors)
    stored = dict(get_setting(session, town_id, RULES_KEY, None) or {})
    values: dict[str, Any] = {"amount": amount}
    if unit is not None:
        values["unit"] = unit
    if max_extension_days is not None:
        values["max_extension_days"] = max_extension_days
    stored[code] = {k: v for k, v in values.items() if k in OVERRIDABLE}
    set_setting(session, town_id, RULES_KEY, stored)
    forget_town_rules(session)
    return town_rule(session, town_id, code)
