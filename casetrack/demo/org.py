"""The demo town's organisation: 北和镇, its 31 villages, its units and its users."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from casetrack.auth.models import Role, User
from casetrack.demo.people import PeopleFactory
from casetrack.org.models import Town, Unit, Village
from casetrack.org.prefixes import prefix_rows

TOWN_NAME = "北和镇"
COUNTY_CODE = "440882"
COUNTY_NAME = "雷州市"
PETITION_ISSUER = "北和信"
DISPUTE_ISSUER = "北和调"
#: the password of every demo account (printed by ``flask demo load`` and ``scripts/run``,
#: listed in the README; demo only). It meets the password policy (``core.passwords``), like
#: every password the application accepts, and is not to be changed at first login: the
#: accounts are shared by everyone trying the demo.
DEMO_PASSWORD = "beihe-demo-2026"
#: the report says 75 full- and part-time grid workers
GRID_WORKERS = 75
#: town units (承办单位); two handlers each
UNITS = (
    "综治办", "信访办", "司法所", "派出所", "自然资源所", "农业农村办", "城建办", "社会事务办",
    "生态环境办", "市场监管所", "党政办",
)
HANDLERS_PER_UNIT = 2
#: which unit handles a petition of each content category (first is the usual one)
CATEGORY_UNITS: dict[str, tuple[str, ...]] = {
    "自然资源": ("自然资源所",),
    "城乡建设": ("城建办",),
    "农村农业": ("农业农村办",),
    "劳动和社会保障": ("社会事务办",),
    "政法": ("综治办", "派出所", "司法所"),
    "民政与应急": ("社会事务办",),
    "生态环境": ("生态环境办",),
    "交通运输": ("城建办",),
    "卫生健康": ("社会事务办",),
    "教育": ("社会事务办",),
    "市场监督": ("市场监管所",),
    "党务政务": ("党政办",),
    "经济管理": ("党政办",),
    "其他": ("信访办", "综治办"),
}
#: units that take over disputes escalated to the town (镇综治中心/司法所)
TOWN_MEDIATION_UNITS = ("综治办", "司法所")

PACKAGED_CSV = Path(__file__).with_name("beihe_villages.csv")


@dataclass
class DemoOrg:
    """Everything the case builders need to know about the demo town's people."""

    town: Town
    villages: list[Village]
    units: dict[str, Unit]
    admin: User
    supervisor: User
    leader: User
    handlers: dict[str, list[User]]
    grid_workers: list[User]
    grid_by_village: dict[int, list[User]] = field(default_factory=dict)

    @property
    def users(self) -> list[User]:
        """Every demo user in the order of the login table."""
        handlers = [u for name in UNITS for u in self.handlers[name]]
        return [self.admin, self.supervisor, self.leader, *handlers, *self.grid_workers]


def villages_csv_path(app: Flask) -> Path:
    """The villages CSV: the ``DEMO_VILLAGES_CSV`` setting, else the shared demo folder beside
    the project, else the copy shipped in this package (so a bare clone still loads)."""
    configured = app.config.get("DEMO_VILLAGES_CSV")
    if configured:
        return Path(configured)
    shared = Path(app.root_path).parent.parent / "shared" / "demo" / "beihe_villages.csv"
    if shared.is_file():
        return shared
    return PACKAGED_CSV


def read_villages(path: Path) -> list[tuple[str, str]]:
    """(name, kind) rows of the CSV (header ``name,kind``)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = [(r["name"].strip(), r["kind"].strip()) for r in csv.DictReader(fh)]
    return [r for r in rows if r[0]]


def grid_worker_counts(villages: list[tuple[str, str]], total: int) -> list[int]:
    """How many grid workers each village gets: one each, then the extra ones to the
    communities first (denser), then the villages in list order, at most three each."""
    counts = [1] * len(villages)
    left = total - len(villages)
    order = sorted(range(len(villages)), key=lambda i: (villages[i][1] != "社区", i))
    while left > 0:
        progressed = False
        for i in order:
            if left == 0:
                break
            if counts[i] < 3:
                counts[i] += 1
                left -= 1
                progressed = True
        if not progressed:
            raise ValueError("too many grid workers for the villages")
    return counts


def existing_usernames(session: Session, usernames: list[str]) -> list[str]:
    """Which of the demo's usernames are already taken."""
    from sqlalchemy import select

    return list(session.scalars(select(User.username).where(User.username.in_(usernames))))


def demo_usernames(grid_workers: int = GRID_WORKERS) -> list[str]:
    """Every username the demo creates."""
    handlers = len(UNITS) * HANDLERS_PER_UNIT
    return (["admin", "supervisor", "leader"]
            + [f"handler{i:02d}" for i in range(1, handlers + 1)]
            + [f"grid{i:02d}" for i in range(1, grid_workers + 1)])


def build_org(session: Session, rng: random.Random, people: PeopleFactory,
              village_rows: list[tuple[str, str]]) -> DemoOrg:
    """Create the town, its villages, units and users (flushed, not committed)."""
    town = Town(name=TOWN_NAME, county_code=COUNTY_CODE, county_name=COUNTY_NAME,
                number_prefixes=prefix_rows(petition=PETITION_ISSUER, dispute=DISPUTE_ISSUER))
    session.add(town)
    villages = [Village(town=town, name=name, kind=kind, sort_order=i)
                for i, (name, kind) in enumerate(village_rows)]
    units = {name: Unit(town=town, name=name) for name in UNITS}
    session.add_all([*villages, *units.values()])
    session.flush()

    # One hash for every account: they share the demo password, and hashing is slow.
    password_hash = generate_password_hash(DEMO_PASSWORD)

    def user(username: str, role: Role, *, unit: Unit | None = None,
             village: Village | None = None) -> User:
        is_male = rng.random() < 0.6
        u = User(username=username, name=people.name(is_male, unique=True), role=str(role),
                 town_id=town.id, unit_id=unit.id if unit else None, phone=people.phone(),
                 password_hash=password_hash)
        if village is not None:
            u.villages = [village]
        session.add(u)
        return u

    admin = user("admin", Role.ADMIN)
    supervisor = user("supervisor", Role.SUPERVISOR, unit=units["信访办"])
    leader = user("leader", Role.LEADER)
    handlers: dict[str, list[User]] = {}
    n = 0
    for name in UNITS:
        handlers[name] = []
        for _ in range(HANDLERS_PER_UNIT):
            n += 1
            handlers[name].append(user(f"handler{n:02d}", Role.HANDLER, unit=units[name]))
    grid_workers: list[User] = []
    grid_by_village: dict[int, list[User]] = {}
    counts = grid_worker_counts(village_rows, GRID_WORKERS)
    for village, count in zip(villages, counts, strict=True):
        for _ in range(count):
            g = user(f"grid{len(grid_workers) + 1:02d}", Role.GRID_WORKER, village=village)
            grid_workers.append(g)
            grid_by_village.setdefault(village.id, []).append(g)
    session.flush()
    return DemoOrg(town=town, villages=villages, units=units, admin=admin,
                   supervisor=supervisor, leader=leader, handlers=handlers,
                   grid_workers=grid_workers, grid_by_village=grid_by_village)
