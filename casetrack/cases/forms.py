"""Web forms for registering cases and for each step on a case.

The forms only parse and type-check what the browser sent (dates, numbers, choices); the
domain rules (ID check digit, required reasons, deadlines) are checked by the services,
whose field errors are put back on these fields by ``apply_field_errors``.
"""

from __future__ import annotations

import datetime as dt

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional
from wtforms.validators import ValidationError as WTFormsValidationError

from casetrack.cases import kinds, rules, steps
from casetrack.cases.kinds.petition import rules as prules
from casetrack.cases.labels import FORM_LABELS
from casetrack.cases.services import CaseInput, PartyInput
from casetrack.core.params import MAX_INT

#: parties that can be entered on the registration form
MAX_PARTIES = 5


class LocalDateField(DateField):
    """A date field whose parse error is in the interface language (Chinese msgid)."""

    def process_formdata(self, valuelist):
        """Parse YYYY-MM-DD; an unparsable value becomes a field error."""
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = dt.date.fromisoformat(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("日期格式不正确，应为“年-月-日”，如 2026-11-23")) from None


class LocalIntegerField(IntegerField):
    """An integer field whose parse error is in the interface language."""

    def process_formdata(self, valuelist):
        """Parse an integer; anything else becomes a field error."""
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = int(valuelist[0].strip())
        except ValueError:
            self.data = None
            raise ValueError(_l("请填写整数")) from None


def _int_or_none(value) -> int | None:
    """A chosen id; one no 32-bit id column can hold becomes -1, which names nothing (the
    service refuses it) instead of overflowing the database driver."""
    if value in (None, "", "None"):
        return None
    number = int(value)
    return number if 0 <= number <= MAX_INT else -1


def _required(message) -> InputRequired:
    return InputRequired(message=message)


def opts(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select choices."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def _choices(mapping: dict[str, str], blank: str | None = None) -> list[SelectChoice]:
    out = [("", blank)] if blank is not None else []
    return opts(out + [(k, _l(v)) for k, v in mapping.items()])


# --------------------------------------------------------------------------- registration


class PartyForm(Form):
    """One petitioner or dispute party (a sub-form: no CSRF token of its own)."""

    role = SelectField(_l("身份"), choices=_choices(rules.PARTY_ROLES), validate_choice=False)
    name = StringField(_l(FORM_LABELS["party_name"]), filters=[lambda v: v.strip() if v else v])
    id_number = StringField(_l(FORM_LABELS["id_number"]), filters=[lambda v: v.strip().upper() if v else v])
    phone = StringField(_l(FORM_LABELS["phone"]), filters=[lambda v: v.strip() if v else v])
    address = StringField(_l(FORM_LABELS["address"]), filters=[lambda v: v.strip() if v else v])

    def is_blank(self) -> bool:
        """True when nothing but the role was entered."""
        return not any((self.name.data, self.id_number.data, self.phone.data, self.address.data))


class CaseForm(FlaskForm):
    """Registering a petition or a dispute. ``configure`` sets the kind-dependent lists."""

    kind = HiddenField()
    title = StringField(_l(FORM_LABELS["title"]))
    summary = TextAreaField(_l(FORM_LABELS["summary"]))
    source = SelectField(_l(FORM_LABELS["source"]), choices=[])
    petition_class = SelectField(_l(FORM_LABELS["petition_class"]), choices=[])
    category = SelectField(_l(FORM_LABELS["category"]), choices=[])
    village_id = SelectField(_l(FORM_LABELS["village"]), choices=[], coerce=_int_or_none,
                             validate_choice=False)
    received_on = LocalDateField(_l(FORM_LABELS["received_on"]), validators=[_required(_l("请填写收到日期"))])
    external_ref = StringField(_l(FORM_LABELS["external_ref"]))
    external_due_on = LocalDateField(_l(FORM_LABELS["external_due_on"]), validators=[Optional()])
    external_authority = StringField(_l(FORM_LABELS["external_authority"]))
    #: petitions only (group visits); a dispute leaves it empty and counts as 1
    group_size = LocalIntegerField(_l(FORM_LABELS["group_size"]), default=1, validators=[Optional()])
    parties = FieldList(FormField(PartyForm), min_entries=MAX_PARTIES, max_entries=MAX_PARTIES)
    check = SubmitField(_l("查询重信重访"))
    submit = SubmitField(_l("登记"))

    def configure(self, kind: str, villages: list[tuple[int, str]], town_wide: bool) -> None:
        """Fill the choice lists for ``kind`` and the villages the user may register in."""
        spec = kinds.kind_of(kind)
        self.kind.data = kind
        self.source.choices = _choices(spec.sources, _l("请选择"))
        self.petition_class.choices = opts([("", _l("请选择"))] + [
            (c, _l(c)) for c in prules.CLASSES])
        self.category.choices = opts([("", _l("请选择"))] + [
            (c, _l(c)) for c in spec.categories])
        blank = _l("（不限村居）") if town_wide and not spec.village_required else _l("请选择")
        self.village_id.choices = opts([("", blank)] + [(str(i), n) for i, n in villages])
        # the service decides the lists; the form only keeps what was typed
        self.source.validate_choice = False
        self.petition_class.validate_choice = False
        self.category.validate_choice = False
        roles = _choices({k: v for k, v in rules.PARTY_ROLES.items() if k in spec.party_roles})
        for entry in self.parties:
            entry.form.role.choices = roles

    def filled_parties(self) -> list[tuple[int, PartyForm]]:
        """(row index, sub-form) of each party row that has something in it."""
        return [(i, e.form) for i, e in enumerate(self.parties) if not e.form.is_blank()]

    def to_input(self) -> CaseInput:
        """The registration as the service takes it."""
        kind = self.kind.data
        return CaseInput(
            kind=kind,
            title=(self.title.data or "").strip(),
            summary=(self.summary.data or "").strip(),
            source=self.source.data or "",
            petition_class=((self.petition_class.data or None)
                            if "petition_class" in kinds.kind_of(kind).fields else None),
            category=self.category.data or "",
            village_id=self.village_id.data,
            received_on=self.received_on.data,
            external_ref=(self.external_ref.data or "").strip() or None,
            external_due_on=self.external_due_on.data,
            external_authority=(self.external_authority.data or "").strip(),
            # left empty it is 1; a number typed (0, -3) is the service's to refuse, never
            # quietly turned into 1
            group_size=1 if self.group_size.data is None else self.group_size.data,
            parties=[
                PartyInput(name=p.name.data or "", role=p.role.data or "",
                           id_number=p.id_number.data or "", phone=p.phone.data or "",
                           address=p.address.data or "")
                for _, p in self.filled_parties()
            ],
        )

    def party_names_and_ids(self) -> tuple[list[str], list[str]]:
        """Names and ID numbers typed so far (for the 重信重访 look-up)."""
        rows = [p for _, p in self.filled_parties()]
        return [p.name.data or "" for p in rows], [p.id_number.data or "" for p in rows]

    def apply_field_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """Put the service's field errors on the fields; returns those that fit no field.

        The service numbers parties among the filled rows only, so ``parties-1-name`` is
        mapped back to the row it came from.
        """
        rows = [i for i, _ in self.filled_parties()]
        rest: dict[str, str] = {}
        for key, message in errors.items():
            if key.startswith("parties-"):
                _, idx, name = key.split("-", 2)
                row = rows[int(idx)] if int(idx) < len(rows) else None
                sub = self.parties[row].form if row is not None else None
                if sub is not None and name in sub._fields:
                    sub[name].errors = [*sub[name].errors, message]
                    continue
            elif key in self._fields:
                self[key].errors = [*self[key].errors, message]
                continue
            rest[key] = message
        return rest


# --------------------------------------------------------------------------- actions


class ActionForm(FlaskForm):
    """Base of the per-step forms; ``apply_field_errors`` as on ``CaseForm``."""

    def apply_field_errors(self, errors: dict[str, str]) -> None:
        """Attach the service's per-field messages to the matching fields."""
        for key, message in errors.items():
            if key in self._fields:
                field = self[key]
                field.errors = [*field.errors, message]


class StepForm(ActionForm):
    """Base of the generated step forms: every one carries the case version it was read at
    (and the last timeline entry then seen), so a stale page cannot overwrite a newer one."""

    version = HiddenField()
    seen_event = HiddenField()

    #: the step this form was generated for
    step: steps.Step

    def posted_version(self) -> int | None:
        """The version the page was loaded at, or None when the post carries none.

        A version that is present but not a plausible version number (``abc``, ``-1``, 20
        digits) is returned as -1, which matches no case: the post is refused as stale
        rather than let through unchecked."""
        raw = (self.version.data or "").strip()
        if not raw:
            return None
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else -1

    def posted_seen_event(self) -> int:
        raw = (self.seen_event.data or "").strip()
        return int(raw) if raw.isdigit() and len(raw) < 18 else 0

    def configure(self, session, case) -> None:
        """Fill the choice lists that depend on the case (units and handlers of its town)."""
        for inp in self.step.inputs:
            if inp.options is not None:
                self[inp.form_name].choices = opts(
                    (value, _l(text) if value == "" or inp.options_translated else text)
                    for value, text in inp.options(session, case))

    def data_for_service(self, kind: str) -> dict:
        """The inputs as the service takes them (keyed by input name)."""
        out: dict = {}
        for inp in self.step.inputs:
            value = self[inp.form_name].data
            if inp.type == "bool":
                value = None if value in (None, "") else value == inp.choices[0][0]
            elif inp.type in ("text", "longtext"):
                value = value or ""
            elif inp.type == "choice":
                value = value or (inp.default if inp.default is not None else None)
                if not inp.required and value == "":
                    value = None
            if inp.kinds and kind not in inp.kinds:
                value = None
            out[inp.name] = value
        return out


def _field_for(inp: steps.Input):
    """The WTForms field of one declared input."""
    label = _l(inp.label)
    required = [_required(_l(inp.required_message))] if inp.required_message else []
    if inp.type == "date":
        return LocalDateField(label, validators=required or [Optional()])
    if inp.type == "int":
        return LocalIntegerField(label, validators=required or [Optional()])
    if inp.type == "bool":
        return RadioField(label, choices=opts((v, _l(t)) for v, t in inp.choices),
                          validators=required)
    if inp.type == "choice":
        blank = [] if inp.default is not None else [("", _l("请选择"))]
        return SelectField(label, choices=opts(blank + [(v, _l(t)) for v, t in inp.choices]),
                           validate_choice=False)
    if inp.type == "id":
        return SelectField(label, choices=[], coerce=_int_or_none, validate_choice=False)
    if inp.type == "longtext":
        return TextAreaField(label, validators=[_max_length(inp.max_length)])
    return StringField(label, validators=[_max_length(inp.max_length)])


def _max_length(limit: int):
    """A text no longer than the input declares: the API's schema is generated from the same
    ``max_length``, so a page refuses what the API refuses."""

    def check(form, field) -> None:
        if field.data and len(field.data) > limit:
            raise WTFormsValidationError(gettext("不能超过%(n)s个字", n=limit))

    return check


_STEP_FORMS: dict[str, type[StepForm]] = {}


def step_form(step: steps.Step) -> type[StepForm]:
    """The web form of ``step``, generated once from its declared inputs."""
    if step.name not in _STEP_FORMS:
        attrs = {inp.form_name: _field_for(inp) for inp in step.inputs}
        attrs["step"] = step
        name = "".join(p.capitalize() for p in step.name.split("_")) + "Form"
        _STEP_FORMS[step.name] = type(name, (StepForm,), attrs)
    return _STEP_FORMS[step.name]


class CaseSettingsForm(FlaskForm):
    """The town's handling settings."""

    reply_approval = BooleanField(_l("答复须经镇领导审批后才能送达"))


class AttachmentForm(ActionForm):
    file = FileField(_l("选择文件"))


class ConfirmForm(ActionForm):
    """A button with only the CSRF token (e.g. 查看完整身份证号)."""
