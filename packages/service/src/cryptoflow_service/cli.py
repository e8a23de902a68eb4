"""`cryptoflow-service`: start each part of the service.

    cryptoflow-service migrate                 # the service's own tables (cryptoflow-batch owns the marts)
    cryptoflow-service serve [--bind 127.0.0.1:8000] [--workers N]   # gunicorn, never runserver
    cryptoflow-service worker [celery worker options...]
    cryptoflow-service beat [celery beat options...]
    cryptoflow-service createtoken USER [--email ADDRESS]
    cryptoflow-service manage ARGS...          # any Django management command

Configuration comes from `CRYPTOFLOW_SERVICE_*` environment variables (see `.env.example`).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

SETTINGS_MODULE = "cryptoflow_service.settings"
CELERY_APP = "cryptoflow_service.celery_app"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cryptoflow-service", description="CryptoFlow API, Celery worker and Beat."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="create or upgrade the service's own tables")

    serve = commands.add_parser("serve", help="run the API and dashboard with gunicorn")
    serve.add_argument("--bind", default="127.0.0.1:8000", help="host:port (default 127.0.0.1:8000)")
    serve.add_argument(
        "--workers", type=int, default=max(2, (os.cpu_count() or 1) + 1), help="worker processes"
    )
    serve.add_argument("--threads", type=int, default=4, help="threads per worker (gthread; default 4)")
    serve.add_argument("--timeout", type=int, default=30, help="seconds before a stuck worker is restarted")
    serve.add_argument("--access-log", action="store_true", help="log every request to stdout")

    # Options these two do not know (`--pool solo`, `--schedule PATH`, ...) are passed on to celery.
    commands.add_parser("worker", help="run a Celery worker (other options go to `celery worker`)")
    commands.add_parser("beat", help="run Celery Beat (other options go to `celery beat`)")

    token = commands.add_parser("createtoken", help="create USER if needed and print its API token")
    token.add_argument("user")
    token.add_argument(
        "--email", default="", help="the user's e-mail address (default recipient of e-mail alerts)"
    )

    manage = commands.add_parser("manage", help="run a Django management command")
    manage.add_argument("manage_args", nargs=argparse.REMAINDER)
    return parser


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    import django  # noqa: PLC0415 - only the commands that need Django pay for loading it

    django.setup()


def _exec(argv: list[str]) -> NoReturn:
    """Replace this process (signals then reach the server directly, and its exit code is ours)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *argv])  # noqa: S606 - this interpreter, our own argv


def _create_token(user: str, email: str) -> int:
    _django()
    from django.contrib.auth import get_user_model  # noqa: PLC0415
    from rest_framework.authtoken.models import Token  # noqa: PLC0415

    account, created = get_user_model().objects.get_or_create(username=user, defaults={"email": email})
    if email and not created and getattr(account, "email", "") != email:
        account.email = email  # type: ignore[attr-defined]
        account.save(update_fields=["email"])
    token, _ = Token.objects.get_or_create(user=account)
    print(token.key)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in {"worker", "beat"}:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    from django.core.exceptions import ImproperlyConfigured  # noqa: PLC0415
    from django.db import DatabaseError  # noqa: PLC0415

    try:
        return _run(args, extra)
    except ImproperlyConfigured as exc:  # a missing or malformed setting: the user's to fix
        print(f"cryptoflow-service: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:  # the database is unreachable or not migrated
        print(
            f"cryptoflow-service: database: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}",
            file=sys.stderr,
        )
        return 1


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    if args.command == "migrate":
        _django()
        from django.core.management import call_command  # noqa: PLC0415

        call_command("migrate", interactive=False)
        return 0
    if args.command == "serve":
        _django()  # fail here, with the settings' message, rather than in every gunicorn worker
        gunicorn = ["-m", "gunicorn", "cryptoflow_service.wsgi:application", "--bind", args.bind]
        gunicorn += [
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--worker-class",
            "gthread",
        ]
        gunicorn += ["--timeout", str(args.timeout), "--graceful-timeout", "10", "--error-logfile", "-"]
        if args.access_log:
            gunicorn += ["--access-logfile", "-"]
        _exec(gunicorn)
    if args.command in {"worker", "beat"}:
        _exec(["-m", "celery", "-A", CELERY_APP, args.command, "--loglevel", "INFO", *extra])
    if args.command == "createtoken":
        return _create_token(args.user, args.email)
    if args.command == "manage":
        _django()
        from django.core.management import execute_from_command_line  # noqa: PLC0415

        execute_from_command_line(["cryptoflow-service manage", *args.manage_args])
        return 0
    raise AssertionError(args.command)  # argparse only accepts the commands above
