"""Print every user as CSV: python -m scripts.export_users [DATABASE_URL]"""

from __future__ import annotations

import csv
import sys
from typing import TextIO

from database import DatabaseManager
from models import User


def export_users(db_manager, out: TextIO) -> int:
    session = db_manager.get_session()
    writer = csv.writer(out)
    writer.writerow(["id", "username", "email", "role", "active"])
    rows = session.query(User).order_by(User.id).all()
    for user in rows:
        writer.writerow([user.id, user.username, user.email, user.role, int(user.active)])
    session.close()
    return len(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    export_users(DatabaseManager(args[0] if args else "sqlite:///captions.db"), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
