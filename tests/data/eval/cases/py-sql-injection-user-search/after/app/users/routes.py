"""HTTP endpoints for the user directory."""

from __future__ import annotations

from flask import Blueprint, abort, g, jsonify, request

from app.auth import login_required
from app.users.repository import User, UserRepository

bp = Blueprint("users", __name__, url_prefix="/api/users")


def _serialize(user: User) -> dict[str, object]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "created_at": user.created_at.isoformat(),
    }


def _repo() -> UserRepository:
    return UserRepository(g.db)


@bp.get("/")
@login_required
def list_users():
    limit = min(request.args.get("limit", 50, type=int), 200)
    offset = max(request.args.get("offset", 0, type=int), 0)
    users = _repo().list_active(limit=limit, offset=offset)
    return jsonify([_serialize(u) for u in users])


@bp.get("/search")
@login_required
def search_users():
    term = request.args.get("q", "")
    if len(term) < 2:
        return jsonify({"error": "query must be at least 2 characters"}), 400
    limit = min(request.args.get("limit", 20, type=int), 50)
    return jsonify([_serialize(u) for u in _repo().search(term, limit=limit)])


@bp.get("/<int:user_id>")
@login_required
def get_user(user_id: int):
    user = _repo().get(user_id)
    if user is None:
        abort(404)
    return jsonify(_serialize(user))
