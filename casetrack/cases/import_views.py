"""Import pages: template download, upload, sheet choice, column mapping, preview of every
row, import.

An upload is parsed once: the parsed sheet (JSON) waits under ``instance/imports/`` under a
random name that only the uploader's session knows, until it is imported or replaced; each
later step reads that, never the spreadsheet again. The workbook itself is kept beside it
only while the user may still choose another of its visible sheets.
"""

from __future__ import annotations

import io
import os
import secrets
import time
from pathlib import Path
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casetrack.cases import importing
from casetrack.cases.import_files import SheetChoiceNeeded
from casetrack.core.errors import DomainError
from casetrack.core.templating import add_nav_provider
from casetrack.core.time import app_now
from casetrack.core.unit import page_unit
from casetrack.extensions import db
from casetrack.org.models import Town

bp = Blueprint("imports", __name__, url_prefix="/imports")
SESSION_KEY = "case_import"
#: uploads left behind (never imported) are deleted after this many seconds
STALE_SECONDS = 24 * 3600
TEMPLATE_NAME = "交办清单导入模板.xlsx"
#: the name old clients that ignore ``filename*`` save the template under
TEMPLATE_ASCII_NAME = "casetrack-import-template.xlsx"


def init_app(app: Flask) -> None:
    """Register the blueprint and the navigation link for users who may import."""
    app.register_blueprint(bp)
    add_nav_provider(app, _nav)


def _nav() -> list[dict]:
    if not importing.can_import(current_user):
        return []
    return [{"url": url_for("imports.index"), "label": _("导入交办清单"), "badge": ""}]


@bp.before_request
@login_required
def _only_importers():
    if not importing.can_import(current_user):
        abort(403)


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _remove_stale(folder: Path) -> None:
    limit = time.time() - STALE_SECONDS
    for path in folder.iterdir():
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def _pending() -> dict | None:
    """The upload waiting in this session (its state), if its files are still there."""
    state = session.get(SESSION_KEY)
    if not state or state.get("user_id") != current_user.id:
        return None
    return state


def _parsed_path(state: dict) -> Path:
    return _folder() / f"{state['key']}.json"


def _raw_path(state: dict) -> Path:
    return _folder() / f"{state['key']}.raw"


def _discard() -> None:
    state = session.pop(SESSION_KEY, None)
    if state:
        _parsed_path(state).unlink(missing_ok=True)
        _raw_path(state).unlink(missing_ok=True)


@bp.route("/")
def index():
    """Upload form, with the template to download."""
    return render_template("imports/upload.html", columns=importing.COLUMNS, error=None)


@bp.route("/template.xlsx")
def template():
    """The import template with Chinese headers and the town's village and unit names."""
    town = db.session.get(Town, current_user.town_id) if current_user.town_id else None
    resp = send_file(io.BytesIO(importing.template_workbook(town)),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    # Werkzeug reduces a Chinese-only name to "filename=.xlsx": give an ASCII fallback too
    resp.headers["Content-Disposition"] = (
        f"attachment; filename=\"{TEMPLATE_ASCII_NAME}\"; "
        f"filename*=UTF-8''{quote(TEMPLATE_NAME)}")
    return resp


@bp.route("/", methods=["POST"])
def upload():
    """Parse the file once, keep the parsed sheet, go to the mapping step — or straight to
    the check of every row when every header is recognised."""
    file = request.files.get("file")
    if file is None or not file.filename:
        return _upload_error(_("请选择要导入的文件"))
    filename = os.path.basename(file.filename.replace("\\", "/"))[:200]
    data = file.read()
    sheets: list[str] = []
    try:
        sheet = importing.read_sheet(filename, data)
    except SheetChoiceNeeded as exc:
        sheet, sheets = None, exc.sheets
    except DomainError as exc:
        return _upload_error(exc.message, exc.http_status)
    _discard()
    folder = _folder()
    _remove_stale(folder)
    state = {"key": secrets.token_hex(16), "filename": filename, "user_id": current_user.id,
             "mapping": {}}
    if sheet is None or len(sheet.sheets) > 1:
        _raw_path(state).write_bytes(data)  # the user may pick (another) sheet
    if sheet is None:
        state["sheets"] = sheets
        session[SESSION_KEY] = state
        return redirect(url_for("imports.mapping"), 303)
    return _keep(state, sheet)


def _keep(state: dict, sheet: importing.Sheet):
    """Store the parsed sheet and its automatic mapping; skip the mapping step when there is
    nothing to ask."""
    _parsed_path(state).write_text(sheet.to_json(), encoding="utf-8")
    state["mapping"] = importing.auto_mapping(sheet.headers)
    state["sheets"] = sheet.sheets
    session[SESSION_KEY] = state
    if importing.mapping_complete(sheet.headers, state["mapping"]):
        return redirect(url_for("imports.preview"), 303)
    return redirect(url_for("imports.mapping"), 303)


def _upload_error(message: str, status: int = 400):
    return render_template("imports/upload.html", columns=importing.COLUMNS,
                           error=message), status


def _sheet_or_restart():
    """The waiting upload's state and parsed sheet (None while a sheet must be chosen)."""
    state = _pending()
    if state is None:
        flash(_("没有待导入的文件，请重新上传"), "error")
        return None, None, redirect(url_for("imports.index"), 303)
    path = _parsed_path(state)
    if path.is_file():
        return state, importing.Sheet.from_json(path.read_text(encoding="utf-8")), None
    if _raw_path(state).is_file():
        return state, None, None
    _discard()
    flash(_("没有待导入的文件，请重新上传"), "error")
    return None, None, redirect(url_for("imports.index"), 303)


@bp.route("/sheet", methods=["POST"])
def choose_sheet():
    """Read the visible sheet the user picked (hidden sheets are never offered)."""
    state = _pending()
    if state is None or not _raw_path(state).is_file():
        flash(_("没有待导入的文件，请重新上传"), "error")
        return redirect(url_for("imports.index"), 303)
    name = request.form.get("sheet", "")
    try:
        sheet = importing.read_sheet(state["filename"], _raw_path(state).read_bytes(),
                                     sheet=name)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("imports.mapping"), 303)
    return _keep(state, sheet)


@bp.route("/mapping", methods=["GET", "POST"])
def mapping():
    """Which sheet, and which column of the file fills which field (recognised headers are
    pre-selected; the file's columns that fill nothing are listed)."""
    state, sheet, restart = _sheet_or_restart()
    if restart is not None:
        return restart
    if sheet is None:
        return render_template("imports/mapping.html", filename=state["filename"], sheet=None,
                               sheets=state.get("sheets", []), columns=importing.COLUMNS,
                               chosen={}, errors={}, samples=[], unmapped=[], derived=[])
    chosen = {k: int(v) for k, v in state["mapping"].items()}
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = {}
        for col in importing.COLUMNS:
            value = request.form.get(col.key, "")
            if value.isdigit():
                chosen[col.key] = int(value)
        errors = importing.check_mapping(sheet.headers, chosen)
        if not errors:
            state["mapping"] = chosen
            session[SESSION_KEY] = state
            return redirect(url_for("imports.preview"), 303)
    samples = sheet.rows[:3]
    return render_template("imports/mapping.html", filename=state["filename"], sheet=sheet,
                           sheets=sheet.sheets if _raw_path(state).is_file() else [],
                           columns=importing.COLUMNS, chosen=chosen, errors=errors,
                           samples=samples,
                           unmapped=importing.unmapped_headers(sheet.headers, chosen),
                           derived=importing.derived_headers(sheet.headers, chosen)), \
        (422 if errors else 200)


@bp.route("/preview")
def preview():
    """Every row checked: the errors by row and column, the rows already present, the new."""
    state, sheet, restart = _sheet_or_restart()
    if restart is not None:
        return restart
    if sheet is None:
        return redirect(url_for("imports.mapping"), 303)
    mapping = {k: int(v) for k, v in state["mapping"].items()}
    return page_unit(
        lambda: render_template(
            "imports/preview.html", filename=state["filename"],
            preview=importing.preview_import(db.session, current_user, app_now(), sheet,
                                             mapping),
            units={u.id: u.name for u in current_user.town.units} if current_user.town else {}),
        lambda exc: redirect(url_for("imports.mapping"), 303), dry_run=True)


@bp.route("/run", methods=["POST"])
def run():
    """Import every new row in one transaction, or nothing."""
    state, sheet, restart = _sheet_or_restart()
    if restart is not None:
        return restart
    if sheet is None:
        return redirect(url_for("imports.mapping"), 303)
    mapping = {k: int(v) for k, v in state["mapping"].items()}
    now = app_now()

    def work():
        result = importing.preview_import(db.session, current_user, now, sheet, mapping)
        return importing.run_import(db.session, current_user, now, result)

    outcome = page_unit(work, lambda exc: None)
    if outcome is None:
        return redirect(url_for("imports.preview"), 303)
    _discard()
    return render_template("imports/result.html", result=outcome)


@bp.route("/cancel", methods=["POST"])
def cancel():
    """Forget the waiting upload."""
    _discard()
    flash(_("已取消导入"), "info")
    return redirect(url_for("imports.index"), 303)
