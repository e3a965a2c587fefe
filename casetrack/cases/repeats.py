"""First or repeat petition (初信初访 / 重信重访): the earlier cases of the same petitioner.

One rule, used one case at a time (``find_earlier_cases``: the registration page and
``register_case``) and for a whole file at once (``EarlierCases``: an import asks once for
every petitioner of the file instead of once per row): a party is the same petitioner when it
has the same resident ID number, or, for a party given without one, the same name. Only cases
the user may see count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases.models import Case, CaseStatus, Party
from casetrack.cases.scoping import can_see_case, scope_cases
from casetrack.core.normalize import canonical_ref, normalize_id_number

#: how many earlier cases a registration looks at (the timeline names the first five)
EARLIER_LIMIT = 20
#: keys per query when a whole file is looked up (well under every database's limit)
CHUNK = 500


def petitioner_keys(names: list[str], id_numbers: list[str]) -> tuple[list[str], list[str]]:
    """Who counts as the same petitioner: the ID numbers given (``normalize_id_number``: the
    form they are stored in), and the names of the parties given without one."""
    ids = [normalize_id_number(i) for i in id_numbers if normalize_id_number(i)]
    bare_names = [n.strip() for n, i in zip(names, id_numbers, strict=False)
                  if n and n.strip() and not normalize_id_number(i)]
    return ids, bare_names


def _matching_party(ids: list[str], bare_names: list[str]) -> ColumnElement[bool] | None:
    """The condition on ``Party`` for those keys (None when there is no key)."""
    conds = []
    if ids:
        conds.append(Party.id_number.in_(ids))
    if bare_names:
        conds.append(Party.name.in_(bare_names))
    return or_(*conds) if conds else None


def find_earlier_cases(session: Session, actor: User, names: list[str],
                       id_numbers: list[str]) -> list[Case]:
    """Earlier cases (in the user's scope) with a party of the same ID number, or the same
    name when no ID number was given: 初信初访 vs 重信重访. Latest received first."""
    condition = _matching_party(*petitioner_keys(names, id_numbers))
    if condition is None:
        return []
    stmt = select(Case).join(Party).where(condition).order_by(Case.received_on.desc()).distinct()
    return list(session.scalars(scope_cases(stmt, actor).limit(EARLIER_LIMIT)))


def find_reexamined_cases(session: Session, actor: User, id_numbers: list[str],
                           category: str) -> list[Case]:
    """Every case (in the user's scope) of a party with one of these ID numbers that was
    re-examined (已复核) on the same matter (category): 不再受理 (Art. 36). No limit: an old
    re-examined case behind many newer ones still refuses."""
    ids, _names = petitioner_keys([], id_numbers)
    if not ids:
        return []
    stmt = (select(Case).join(Party)
            .where(Party.id_number.in_(ids), Case.status == CaseStatus.REEXAMINED,
                   Case.category == category)
            .order_by(Case.received_on.desc()).distinct())
    return list(session.scalars(scope_cases(stmt, actor)))


def cases_with_reference(session: Session, actor: User, reference: str | None) -> list[Case]:
    """Cases (in the user's scope) already registered under the same 交办文号, compared in
    its canonical form (湛信交〔2026〕214号 = 湛信交[2026]214号): the registration page warns
    before one assignment is counted twice."""
    key = canonical_ref(reference)
    if not key:
        return []
    stmt = select(Case).where(Case.external_ref_key == key).order_by(Case.received_on.desc())
    return list(session.scalars(scope_cases(stmt, actor).limit(EARLIER_LIMIT)))


@dataclass(frozen=True)
class EarlierCase:
    """What a registration needs of an earlier case (the timeline names it by number)."""

    id: int
    number: str
    received_on: dt.date
    #: status and category: a re-examined case on the same matter refuses a new one
    status: str = ""
    category: str = ""


class EarlierCases:
    """``find_earlier_cases`` for many registrations in one transaction (an import).

    Built with the parties of every row: one query per ``CHUNK`` keys (same condition, same
    scope) finds the existing cases of all those petitioners. ``register_case`` then asks it
    instead of the database, and adds each case it registers, so a petitioner who appears
    twice in the file is a repeat on the second row, as with one registration at a time.
    It keeps plain records, not the cases themselves, so that the session can let go of each
    imported case once it is written.
    """

    def __init__(self, session: Session, actor: User,
                 parties: Iterable[tuple[list[str], list[str]]]):
        self.actor = actor
        #: ("id", ID number) or ("name", name) → the cases with such a party, by id
        self._cases: dict[tuple[str, str], dict[int, EarlierCase]] = {}
        ids: set[str] = set()
        names: set[str] = set()
        for party_names, party_ids in parties:
            more_ids, more_names = petitioner_keys(party_names, party_ids)
            ids.update(more_ids)
            names.update(more_names)
        for keys, column in ((sorted(ids), Party.id_number), (sorted(names), Party.name)):
            for start in range(0, len(keys), CHUNK):
                stmt = (select(Case.id, Case.number, Case.received_on, Case.status,
                               Case.category, Party.id_number, Party.name)
                        .join(Party).where(column.in_(keys[start:start + CHUNK])))
                for (case_id, number, received_on, status, category, id_number,
                     name) in session.execute(scope_cases(stmt, self.actor)):
                    self._index(EarlierCase(case_id, number, received_on, status, category),
                                id_number, name)

    def _index(self, case: EarlierCase, id_number: str | None, name: str) -> None:
        if id_number:
            self._cases.setdefault(("id", id_number), {})[case.id] = case
        if name:
            self._cases.setdefault(("name", name), {})[case.id] = case

    def find(self, names: list[str], id_numbers: list[str],
             limit: int | None = EARLIER_LIMIT) -> list[EarlierCase]:
        """What ``find_earlier_cases`` answers for these parties (equal received dates:
        latest registered first); ``limit=None``: all of them (不再受理 looks at every one)."""
        ids, bare_names = petitioner_keys(names, id_numbers)
        found: dict[int, EarlierCase] = {}
        for key in [("id", i) for i in ids] + [("name", n) for n in bare_names]:
            found.update(self._cases.get(key, {}))
        ordered = sorted(found.values(), key=lambda c: (c.received_on, c.id), reverse=True)
        return ordered if limit is None else ordered[:limit]

    def add(self, case: Case) -> None:
        """A case just registered (and flushed) in this transaction, by its parties."""
        if can_see_case(self.actor, case):
            record = EarlierCase(case.id, case.number, case.received_on, case.status,
                                 case.category)
            for party in case.parties:
                self._index(record, party.id_number, party.name)
