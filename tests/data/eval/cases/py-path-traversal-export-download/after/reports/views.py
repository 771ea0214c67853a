"""Download endpoints for generated report exports."""

from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Blueprint, abort, current_app, jsonify, send_file

from reports.auth import login_required, current_account

bp = Blueprint("exports", __name__, url_prefix="/exports")

ALLOWED_SUFFIXES = (".csv", ".xlsx", ".pdf")
MIMETYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}


def _export_dir() -> str:
    root = current_app.config["EXPORT_ROOT"]
    return os.path.join(root, str(current_account().id))


@bp.get("/")
@login_required
def list_exports():
    directory = _export_dir()
    if not os.path.isdir(directory):
        return jsonify([])
    entries = []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(ALLOWED_SUFFIXES):
            continue
        stat = os.stat(os.path.join(directory, name))
        entries.append(
            {
                "name": name,
                "size": stat.st_size,
                "created_at": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(),
            }
        )
    return jsonify(entries)


@bp.get("/<path:name>")
@login_required
def download_export(name: str):
    suffix = os.path.splitext(name)[1].lower()
    if suffix not in MIMETYPES:
        abort(404)
    path = os.path.join(_export_dir(), name)
    if not os.path.isfile(path):
        abort(404)
    account = current_account()
    return send_file(
        path,
        mimetype=MIMETYPES[suffix],
        as_attachment=True,
        download_name=f"{account.slug}-{os.path.basename(name)}",
    )
