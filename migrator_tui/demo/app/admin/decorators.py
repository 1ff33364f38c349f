"""Access control for the admin pages."""

from __future__ import annotations

from functools import wraps

from flask import jsonify
from flask_login import current_user


def require_admin(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated or current_user.role != "admin":
            return jsonify(error="admin role required"), 403
        return view(*args, **kwargs)

    return wrapper
