"""Generate captions for every pending image (all users) outside the web app.

Usage: python -m scripts.backfill_captions [DATABASE_URL]
"""

from __future__ import annotations

import sys

from database import DatabaseManager
from models import Image
from platforms import CaptionGenerator


def pending_images(db_manager) -> list[int]:
    session = db_manager.get_session()
    try:
        return [image_id for (image_id,) in session.query(Image.id).filter_by(status="pending").order_by(Image.id)]
    finally:
        session.close()


def backfill(db_manager, generator: CaptionGenerator | None = None) -> int:
    generator = generator or CaptionGenerator()
    done = 0
    for image_id in pending_images(db_manager):
        session = db_manager.get_session()
        try:
            image = session.get(Image, image_id)
            image.generated_caption = generator.describe(image.filename)
            image.status = "generated"
            session.commit()
            done += 1
        except Exception:
            session.rollback()
            raise
        finally:
            session.close()
    return done


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    db_manager = DatabaseManager(args[0] if args else "sqlite:///captions.db")
    print(f"generated {backfill(db_manager)} captions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
