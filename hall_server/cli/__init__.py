"""The `onedoor` command: init, user, device, close-day, serve, demo."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hall_server.bootstrap import Container, bootstrap
from hall_server.domain.errors import DomainError
from hall_server.settings import Settings, SettingsError

log = logging.getLogger("onedoor")


def _container(args: argparse.Namespace) -> Container:
    return bootstrap(Settings.from_env())


def _read_password(prompt_twice: bool) -> str:
    """The password from standard input (a pipe), or asked twice on a terminal."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if prompt_twice and getpass.getpass("Again: ") != first:
        raise SystemExit("onedoor: the two passwords differ")
    return first


def cmd_init(args: argparse.Namespace) -> int:
    """Create or migrate the database and load a hall configuration."""
    c = _container(args)
    try:
        report = c.init_database(Path(args.config) if args.config else None)
    finally:
        c.close()
    print(f"database ready: {c.settings.database_url.split('@')[-1]}")
    print(f"hall {report['hall']} ({report['name']}) loaded from {report['path']}: {report['categories']} "
          f"categories, {report['windows']} windows ({report['windows_added']} new), {report['items']} items")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    """Add a person (password from standard input)."""
    password = _read_password(prompt_twice=True)
    c = _container(args)
    try:
        user = c.auth.add_user(args.name, password, args.role, args.hall, args.window)
    finally:
        c.close()
    where = f" in hall {user['hall']}" if user["hall"] else ""
    at = f", window {user['window']}" if user["window"] else ""
    print(f"user {user['username']} added as {user['role']}{where}{at}")
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    """Set a person's password (their tokens are revoked)."""
    password = _read_password(prompt_twice=True)
    c = _container(args)
    try:
        c.auth.set_password(args.name, password)
    finally:
        c.close()
    print(f"password of {args.name} changed; their sessions were signed out")
    return 0


def cmd_device_add(args: argparse.Namespace) -> int:
    """Register a device and print its token (shown only this once)."""
    c = _container(args)
    try:
        device_id, token = c.auth.add_device(args.hall, args.kind, args.name)
    finally:
        c.close()
    print(token)
    print(f"device {device_id} ({args.kind}) added to hall {args.hall}; keep the token above secret",
          file=sys.stderr)
    return 0


def cmd_device_list(args: argparse.Namespace) -> int:
    """List registered devices."""
    c = _container(args)
    try:
        for d in c.auth.devices(args.hall):
            state = "revoked" if d["revoked"] else "active"
            print(f"{d['id']}  {d['hall']:<10} {d['kind']:<9} {state:<8} {d['name']}")
    finally:
        c.close()
    return 0


def cmd_device_revoke(args: argparse.Namespace) -> int:
    """Revoke a device's tokens."""
    c = _container(args)
    try:
        c.auth.revoke_device(args.id)
    finally:
        c.close()
    print(f"device {args.id} revoked")
    return 0


def cmd_close_day(args: argparse.Namespace) -> int:
    """Cancel tickets left over from earlier business days (the server also does this every minute)."""
    c = _container(args)
    try:
        n = c.close_days()
    finally:
        c.close()
    print(f"{n} leftover tickets cancelled")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the API (and, later, the pages) with gunicorn."""
    from hall_server.cli.serve import HallServer

    settings = Settings.from_env()
    changes: dict[str, object] = {}
    if args.host:
        changes["host"] = args.host
    if args.port:
        changes["port"] = args.port
    if args.threads:
        changes["threads"] = args.threads
    settings = settings.with_(**changes)
    HallServer(settings, access_log=args.access_log).run()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """A whole hall on this machine: SQLite, the example hall, demo users and devices."""
    from hall_server.cli.demo import run_demo

    return run_demo(host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `onedoor`."""
    p = argparse.ArgumentParser(prog="onedoor", description="OneDoor hall server (政务服务大厅排队叫号)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("init", help="create or migrate the database and load a hall configuration")
    s.add_argument("--config", help="hall configuration YAML (default: config/example-hall.yaml)")
    s.set_defaults(func=cmd_init)

    user = sub.add_parser("user", help="manage people").add_subparsers(dest="user_command", required=True)
    s = user.add_parser("add", help="add a person; the password is read from standard input")
    s.add_argument("name")
    s.add_argument("--role", required=True, choices=["admin", "manager", "staff"])
    s.add_argument("--hall")
    s.add_argument("--window", type=int)
    s.set_defaults(func=cmd_user_add)
    s = user.add_parser("passwd", help="set a person's password (read from standard input)")
    s.add_argument("name")
    s.set_defaults(func=cmd_user_passwd)

    dev = sub.add_parser("device", help="manage kiosks, boards and evaluators").add_subparsers(
        dest="device_command", required=True)
    s = dev.add_parser("add", help="register a device and print its token")
    s.add_argument("--hall", required=True)
    s.add_argument("--kind", required=True, choices=["kiosk", "board", "evaluator"])
    s.add_argument("--name")
    s.set_defaults(func=cmd_device_add)
    s = dev.add_parser("list", help="list devices")
    s.add_argument("--hall")
    s.set_defaults(func=cmd_device_list)
    s = dev.add_parser("revoke", help="revoke a device's token")
    s.add_argument("id")
    s.set_defaults(func=cmd_device_revoke)

    s = sub.add_parser("close-day", help="cancel tickets left over from earlier days")
    s.set_defaults(func=cmd_close_day)

    s = sub.add_parser("serve", help="serve the hall (gunicorn, threads)")
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--threads", type=int)
    s.add_argument("--access-log", action="store_true", help="log every request")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("demo", help="run the example hall on this machine")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `onedoor` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except (DomainError, SettingsError, ValueError) as e:
        message = getattr(e, "detail", None) or str(e)
        print(f"onedoor: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
