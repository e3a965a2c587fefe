"""The unit-of-work helpers: one commit, a rollback on refusal, dry runs, CLI refusals."""

from __future__ import annotations

import click
import pytest
from flask import flash, get_flashed_messages
from sqlalchemy import select

from casetrack.core.errors import DomainError, ValidationError
from casetrack.core.unit import cli_unit, page_unit, refusal_text, unit_of_work
from casetrack.extensions import db
from casetrack.org.models import Town


def _town(name: str) -> Town:
    return Town(name=name)


def _town_names() -> list[str]:
    return list(db.session.scalars(select(Town.name).order_by(Town.name)))


def test_unit_commits_once_and_rolls_back_on_refusal(app):
    with app.app_context():
        with unit_of_work() as session:
            session.add(_town("甲镇"))
        with pytest.raises(DomainError), unit_of_work() as session:
            session.add(_town("乙镇"))
            session.flush()
            raise DomainError("不行")
        assert _town_names() == ["甲镇"]


def test_dry_run_keeps_nothing(app):
    with app.app_context():
        with unit_of_work(dry_run=True) as session:
            session.add(_town("丙镇"))
            session.flush()
        assert _town_names() == []


def test_page_unit_withdraws_the_success_message_of_a_refused_unit(app):
    def work():
        db.session.add(_town("丁镇"))
        flash("已保存", "success")
        raise ValidationError("名称重复", fields={"name": "名称重复"})

    with app.test_request_context("/"):
        answer = page_unit(work, lambda exc: ("refused", exc.http_status))
        assert answer == ("refused", 422)
        assert get_flashed_messages(with_categories=True) == [("error", "名称重复")]
        assert _town_names() == []


def test_cli_unit_turns_a_refusal_into_a_click_error(app):
    with app.app_context():
        with pytest.raises(click.ClickException) as caught, cli_unit() as session:
            session.add(_town("戊镇"))
            raise ValidationError("文件有误", fields={"entries": ["第2行：日期无效", "第3行：类型无效"]})
        assert caught.value.message == "文件有误\n第2行：日期无效\n第3行：类型无效"
        assert _town_names() == []


def test_refusal_text_does_not_repeat_the_message():
    exc = ValidationError("标题不能为空", fields={"title": "标题不能为空"})
    assert refusal_text(exc) == "标题不能为空"
