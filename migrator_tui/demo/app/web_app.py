"""Caption publisher: generate alt-text captions for images, review them, post them to platforms.

Run it with `python web_app.py` (SQLite file `captions.db` in the working directory). The tests
call `create_app(database_url)` with a temporary database.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from functools import wraps

from flask import (
    Flask,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_required, login_user, logout_user
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from database import DatabaseManager
from models import IMAGE_STATUSES, ROLES, Image, PlatformConnection, ProcessingRun, User, utcnow
from platforms import CaptionGenerator, PlatformClient, PlatformPostingError
from session_managers import RequestSessionManager, SessionDatabaseError, UnifiedSessionManager

logger = logging.getLogger(__name__)

__all__ = [
    "SessionDatabaseError",
    "app",
    "create_app",
    "db_manager",
    "request_session_manager",
    "unified_session_manager",
]

# The managers are created once; `create_app()` rebinds the database they talk to.
db_manager = DatabaseManager(os.environ.get("CAPTIONS_DATABASE_URL", "sqlite:///captions.db"))
unified_session_manager = UnifiedSessionManager(db_manager)
request_session_manager = RequestSessionManager(db_manager)
platform_client = PlatformClient()
caption_generator = CaptionGenerator()

app = Flask(__name__)
app.config.update(
    SECRET_KEY=os.environ.get("CAPTIONS_SECRET_KEY", "change-me"),
    db_manager=db_manager,
    IMAGES_PER_PAGE=10,
    MAX_CAPTION_LENGTH=500,
)
unified_session_manager.init_app(app)
request_session_manager.init_app(app)

login_manager = LoginManager(app)
login_manager.login_view = "login"

from session_performance_optimizer import SessionPerformanceOptimizer  # noqa: E402

performance_optimizer = SessionPerformanceOptimizer(db_manager)
app.performance_optimizer = performance_optimizer

from admin import admin_bp  # noqa: E402

app.register_blueprint(admin_bp)


def create_app(database_url: str | None = None, **config) -> Flask:
    """Point the app at `database_url` (default: the environment's), create the tables, return it."""
    db_manager.configure(database_url or os.environ.get("CAPTIONS_DATABASE_URL", "sqlite:///captions.db"))
    db_manager.create_tables()
    performance_optimizer.clear_cache()
    platform_client.outbox.clear()
    app.config.update(config)
    return app


# --------------------------------------------------------------------------- helpers


def json_errors(view):
    """API views raise LookupError for a missing row and ValueError for bad input."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except LookupError as exc:
            return jsonify(error=str(exc)), 404
        except ValueError as exc:
            return jsonify(error=str(exc)), 400

    return wrapper


def role_required(role):
    """Re-check the role in the database: it may have changed since the user logged in."""

    def decorator(f):
        @wraps(f)
        def decorated_function(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            session = db_manager.get_session()
            try:
                user = session.get(User, current_user.id)
                if user is None or user.role not in ROLES or not user.has_role(role):
                    return jsonify(error=f"{role} role required"), 403
            finally:
                session.close()
            return f(*args, **kwargs)

        return decorated_function

    return decorator


@login_manager.user_loader
def load_user(user_id):
    session = db_manager.get_session()
    try:
        user = session.get(User, int(user_id))
        if user is None or not user.active:
            return None
        return user
    finally:
        session.close()


def _get_user_platform(platform_id, user_id):
    """The user's platform connection; ValueError if it is not theirs."""
    session = db_manager.get_session()
    try:
        platform = session.get(PlatformConnection, platform_id)
        if platform is None or platform.user_id != user_id:
            raise ValueError(f"platform {platform_id} is not one of your connections")
        return platform
    finally:
        session.close()


def _captions_csv(user_id):
    """Stream the user's captions as CSV rows."""
    session = db_manager.get_session()
    try:
        yield "filename,status,caption\r\n"
        for image in session.query(Image).filter_by(user_id=user_id).order_by(Image.id):
            buffer = io.StringIO()
            csv.writer(buffer).writerow([image.filename, image.status, image.final_caption or ""])
            yield buffer.getvalue()
    finally:
        session.close()


# --------------------------------------------------------------------------- auth


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        return render_template("login.html")
    session = db_manager.get_session()
    try:
        user = session.query(User).filter_by(username=request.form.get("username", "")).first()
        if user is None or not user.check_password(request.form.get("password", "")):
            flash("Invalid username or password.")
            return render_template("login.html"), 401
        if not user.active:
            flash("This account is disabled.")
            return render_template("login.html"), 403
        user.last_login = utcnow()
        session.commit()
        login_user(user)
        return redirect(url_for("dashboard"))
    except SQLAlchemyError:
        session.rollback()
        logger.exception("login failed")
        flash("Logging in is not possible right now; try again later.")
        return render_template("login.html"), 500
    finally:
        session.close()


@app.route("/logout")
def logout():
    logout_user()
    return redirect(url_for("login"))


@app.route("/register", methods=["POST"])
def register():
    data = request.get_json(force=True)
    session = db_manager.get_session()
    try:
        user = User(username=data["username"], email=data["email"], role="viewer")
        user.set_password(data["password"])
        session.add(user)
        session.commit()
        return jsonify(id=user.id, username=user.username), 201
    except IntegrityError:
        session.rollback()
        return jsonify(error="username or email already registered"), 409
    finally:
        session.close()


# --------------------------------------------------------------------------- pages


@app.route("/")
@login_required
def dashboard():
    session = db_manager.get_session()
    user_id = current_user.id
    try:
        counts = dict(
            session.query(Image.status, func.count(Image.id))
            .filter(Image.user_id == user_id)
            .group_by(Image.status)
            .all()
        )
        recent = session.query(Image).filter_by(user_id=user_id).order_by(Image.id.desc()).limit(5).all()
        stats = performance_optimizer.get_cached_user_stats(user_id)
        return render_template("dashboard.html", counts=counts, recent=recent, stats=stats)
    finally:
        session.close()


@app.route("/images")
@login_required
def images():
    session = db_manager.get_session()
    query = session.query(Image).filter_by(user_id=current_user.id)
    try:
        status = request.args.get("status")
        if status:
            query = query.filter_by(status=status)
        page = max(int(request.args.get("page", 1)), 1)
        per_page = app.config["IMAGES_PER_PAGE"]
        total = query.count()
        rows = query.order_by(Image.id).offset((page - 1) * per_page).limit(per_page).all()
        return render_template("images.html", images=rows, total=total, page=page, status=status)
    finally:
        session.close()


@app.route("/images/<int:image_id>")
@login_required
def image_detail(image_id):
    session = None
    try:
        session = db_manager.get_session()
        image = session.get(Image, image_id)
        if image is None or image.user_id != current_user.id:
            return jsonify(error="image not found"), 404
        return jsonify(
            id=image.id,
            filename=image.filename,
            status=image.status,
            caption=image.final_caption or image.generated_caption,
        )
    finally:
        if session:
            session.close()


@app.route("/review")
@login_required
def review_captions():
    session = db_manager.get_session()
    try:
        pending = (
            session.query(Image)
            .filter_by(user_id=current_user.id, status="generated")
            .order_by(Image.id)
            .all()
        )
    finally:
        session.close()
    session = db_manager.get_session()
    try:
        platforms = session.query(PlatformConnection).filter_by(user_id=current_user.id, is_active=True).all()
    finally:
        session.close()
    # The template reads the loaded images and platforms after their sessions closed.
    return render_template("review.html", images=pending, platforms=platforms)


@app.route("/api/images/<int:image_id>/caption", methods=["POST"])
@login_required
@json_errors
def update_caption(image_id):
    data = request.get_json(force=True)
    session = db_manager.get_session()
    try:
        image = session.get(Image, image_id)
        if image is None or image.user_id != current_user.id:
            raise LookupError(f"image {image_id} not found")
        action = data.get("action", "approve")
        if action == "reject":
            image.status = "rejected"
        else:
            caption = (data.get("caption") or image.generated_caption or "").strip()
            if not caption:
                raise ValueError("caption is empty")
            if len(caption) > app.config["MAX_CAPTION_LENGTH"]:
                raise ValueError(f"caption is longer than {app.config['MAX_CAPTION_LENGTH']} characters")
            image.final_caption = caption
            image.status = "approved"
        session.commit()
        return jsonify(id=image.id, status=image.status, caption=image.final_caption)
    finally:
        session.close()


# --------------------------------------------------------------------------- platforms


@app.route("/platforms")
@login_required
def platform_management():
    try:
        session = db_manager.get_session()
        try:
            platforms = (
                session.query(PlatformConnection)
                .filter_by(user_id=current_user.id)
                .order_by(PlatformConnection.name)
                .all()
            )
            return render_template("platforms.html", platforms=platforms)
        finally:
            session.close()
    except SQLAlchemyError:
        logger.exception("could not load the platform connections of user %s", current_user.id)
        return jsonify(error="platform connections are unavailable"), 503


@app.route("/api/platforms", methods=["GET"])
@login_required
def api_platforms():
    # A read-only session: db_manager.get_session() with an argument is another API.
    session = db_manager.get_session(readonly=True)
    try:
        rows = session.query(PlatformConnection).filter_by(user_id=current_user.id).all()
        return jsonify([{"id": p.id, "name": p.name, "default": p.is_default} for p in rows])
    finally:
        session.close()


@app.route("/api/platforms", methods=["POST"])
@login_required
def add_platform():
    data = request.get_json(force=True)
    try:
        session = db_manager.get_session()
        try:
            platform = PlatformConnection(
                user_id=current_user.id,
                name=data["name"],
                platform_type=data.get("platform_type", "mastodon"),
                instance_url=data["instance_url"],
                access_token=data.get("access_token", ""),
            )
            session.add(platform)
            session.commit()
            return jsonify(id=platform.id, name=platform.name), 201
        finally:
            session.close()
    except IntegrityError:
        return jsonify(error=f"a platform named {data['name']!r} already exists"), 409


@app.route("/api/platforms/<int:platform_id>/default", methods=["POST"])
@login_required
def switch_platform(platform_id):
    try:
        platform = _get_user_platform(platform_id, current_user.id)
    except ValueError as exc:
        return jsonify(error=str(exc)), 404
    name = platform.name
    session = db_manager.get_session()
    try:
        for other in session.query(PlatformConnection).filter_by(user_id=current_user.id):
            other.is_default = other.id == platform.id
        session.commit()
    finally:
        session.close()
    return jsonify(default=platform.id, name=name)


# --------------------------------------------------------------------------- captions


@app.route("/api/captions/generate", methods=["POST"])
@login_required
def generate_captions():
    with db_manager.get_session() as session:
        run = ProcessingRun(user_id=current_user.id)
        session.add(run)
        pending = session.query(Image).filter_by(user_id=current_user.id, status="pending").all()
        for image in pending:
            image.generated_caption = caption_generator.describe(image.filename)
            image.status = "generated"
        run.images_processed = len(pending)
        run.status = "completed"
        run.completed_at = utcnow()
        session.commit()
        return jsonify(run_id=run.id, generated=run.images_processed)


@app.route("/api/captions/post", methods=["POST"])
@login_required
def post_approved_captions():
    http = platform_client.get_session()
    logger.debug("posting through %s", http.base_url)
    session = db_manager.get_session()
    posted = 0
    try:
        approved = (
            session.query(Image)
            .filter_by(user_id=current_user.id, status="approved")
            .order_by(Image.id)
            .all()
        )
        for image in approved:
            platform = image.platform or (
                session.query(PlatformConnection).filter_by(user_id=current_user.id, is_default=True).first()
            )
            if platform is None:
                return jsonify(error="no platform connection to post to", posted=posted), 400
            platform_client.post_caption(platform.instance_url, image.filename, image.final_caption)
            image.status = "posted"
            image.posted_at = utcnow()
            session.commit()
            posted += 1
        return jsonify(posted=posted)
    except PlatformPostingError as exc:
        session.rollback()
        logger.warning("posting stopped: %s", exc)
        return jsonify(error=str(exc), posted=posted), 502
    finally:
        session.close()


@app.route("/api/captions/stats")
@login_required
def caption_stats():
    total = db_manager.get_session().query(Image).filter_by(user_id=current_user.id).count()
    return jsonify(total=total)


@app.route("/api/images/<int:image_id>/status")
@login_required
def api_image_status(image_id):
    session = db_manager.get_session()
    image = session.get(Image, image_id)
    if image is None or image.user_id != current_user.id:
        return jsonify(error="image not found"), 404
    return jsonify(id=image.id, status=image.status)


@app.route("/api/images", methods=["POST"])
@login_required
@json_errors
def upload_image():
    data = request.get_json(force=True)
    filename = (data.get("filename") or "").strip()
    if not filename:
        raise ValueError("filename is required")
    with unified_session_manager.get_db_session() as session:
        image = Image(user_id=current_user.id, filename=filename, platform_id=data.get("platform_id"))
        session.add(image)
        session.flush()
        return jsonify(id=image.id, status=image.status), 201


@app.route("/api/images/<int:image_id>", methods=["DELETE"])
@login_required
def delete_image(image_id):
    session = db_manager.get_session()
    try:
        image = session.get(Image, image_id)
        if image is None or image.user_id != current_user.id:
            return jsonify(error="image not found"), 404
        session.delete(image)
        session.commit()
    finally:
        session.close()
    remaining = session.query(Image).filter_by(user_id=current_user.id).count()
    return jsonify(deleted=image_id, remaining=remaining)


@app.route("/export/captions.csv")
@login_required
def export_captions():
    return Response(_captions_csv(current_user.id), mimetype="text/csv")


@app.route("/health")
def health():
    try:
        session = db_manager.get_session()
        session.execute(text("SELECT 1"))
        return jsonify(status="ok")
    except SQLAlchemyError:
        logger.exception("health check failed")
        return jsonify(status="error"), 503
    finally:
        session.close()


@app.route("/reviewer/queue")
@role_required("reviewer")
def reviewer_queue():
    """Every user's captions waiting for review (reviewers and admins)."""
    with request_session_manager.session_scope() as session:
        rows = session.query(Image).filter_by(status="generated").order_by(Image.id).all()
        return jsonify([{"id": i.id, "filename": i.filename, "caption": i.generated_caption} for i in rows])


@app.route("/api/images/bulk-status", methods=["POST"])
@role_required("reviewer")
def bulk_status():
    data = request.get_json(force=True)
    try:
        updated = performance_optimizer.bulk_update_status(data.get("ids", []), data.get("status", ""))
    except ValueError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(updated=updated)


@app.route("/api/images/statuses")
def image_statuses():
    return jsonify(statuses=list(IMAGE_STATUSES))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    create_app().run(debug=True)
