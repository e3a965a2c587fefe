"""Invented people for the demo town: names, resident ID numbers and phone numbers.

Everything here is fictional and drawn from a seeded ``random.Random``: the same seed gives
the same people. ID numbers are valid in form (county part 440882, real birth date, correct
check digit) but belong to nobody; names of case parties carry the 虚构 marker.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from casetrack.cases.rules import id_check_digit

#: county part of every demo ID number: 雷州市
COUNTY_CODE = "440882"
#: appended to every party's name so that nobody mistakes demo data for a real person
FICTIONAL_MARK = "（虚构）"
#: appended to every party's address
FICTIONAL_ADDRESS_MARK = "（演示数据，虚构）"

SURNAMES = (
    "陈", "李", "黄", "林", "吴", "王", "莫", "梁", "邓", "蔡", "何", "许", "杨", "洪", "庞",
    "符", "詹", "唐", "周", "钟", "邹", "谢", "罗", "谭", "潘", "郑", "麦", "郭", "冯", "刘",
)
MALE_CHARS = (
    "志", "强", "海", "明", "建", "国", "文", "华", "伟", "军", "德", "永", "成", "荣", "光",
    "福", "东", "生", "坤", "亮", "锋", "杰", "辉", "勇", "康", "雄", "振", "彬", "昌", "堃",
)
FEMALE_CHARS = (
    "秀", "丽", "芳", "燕", "玲", "霞", "梅", "兰", "英", "娟", "春", "桂", "萍", "珍", "红",
    "凤", "琼", "婷", "妹", "莲", "洁", "雪", "慧", "敏", "娇", "月", "菊", "琳", "喆", "玉",
)


@dataclass(frozen=True)
class Person:
    """One invented resident."""

    name: str
    id_number: str
    phone: str
    is_male: bool
    birth_on: dt.date


class PeopleFactory:
    """Makes invented residents; never the same ID number or phone twice."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._ids: set[str] = set()
        self._phones: set[str] = set()
        self._names: set[str] = set()

    def name(self, is_male: bool, unique: bool = False) -> str:
        """A plausible Leizhou name (surname + one or two characters)."""
        chars = MALE_CHARS if is_male else FEMALE_CHARS
        for _ in range(1000):
            given = "".join(self.rng.sample(chars, self.rng.choice((1, 2, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if not unique or name not in self._names:
                self._names.add(name)
                return name
        raise RuntimeError("name pool exhausted")

    def id_number(self, birth_on: dt.date, is_male: bool) -> str:
        """An 18-character resident ID with a correct check digit (odd 17th digit: male)."""
        while True:
            seq = self.rng.randrange(0, 100) * 10 + self.rng.randrange(0, 10)
            if (seq % 2 == 1) != is_male:
                seq = (seq + 1) % 1000
            first17 = f"{COUNTY_CODE}{birth_on:%Y%m%d}{seq:03d}"
            value = first17 + id_check_digit(first17)
            if value not in self._ids:
                self._ids.add(value)
                return value

    def phone(self) -> str:
        """An 11-digit mobile number in the 138 range (invented)."""
        while True:
            value = "138" + "".join(str(self.rng.randrange(10)) for _ in range(8))
            if value not in self._phones:
                self._phones.add(value)
                return value

    def person(self, born_from: int = 1950, born_to: int = 2002) -> Person:
        """A complete invented resident born between the two years."""
        is_male = self.rng.random() < 0.55
        start = dt.date(born_from, 1, 1)
        span = (dt.date(born_to, 12, 31) - start).days
        birth_on = start + dt.timedelta(days=self.rng.randrange(span))
        return Person(
            name=self.name(is_male),
            id_number=self.id_number(birth_on, is_male),
            phone=self.phone(),
            is_male=is_male,
            birth_on=birth_on,
        )


def party_name(person: Person) -> str:
    """The name as stored on a case: marked fictional."""
    return person.name + FICTIONAL_MARK


def party_address(town_name: str, village_name: str, rng: random.Random) -> str:
    """A made-up address in the village, marked as demo data."""
    lane = rng.choice(("东", "西", "南", "北", "中"))
    return f"雷州市{town_name}{village_name}{lane}区{rng.randint(1, 180)}号{FICTIONAL_ADDRESS_MARK}"
