"""`watcher web`: the web desk (docs/web.md), and the password hash it logs in with."""

from __future__ import annotations

import asyncio
import sys

import click

from watcher.cli.base import Context, cli


@cli.group(invoke_without_command=True)
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Listen here instead of [web] listen (default 127.0.0.1:8580).",
)
@click.pass_context
def web(ctx: click.Context, listen: str | None) -> None:
    """Serve the web desk: read, triage and tune in the browser, until Ctrl-C.

    It listens on 127.0.0.1 unless told otherwise; any other address needs
    [web] password_hash (make one with `watcher web hash-password`). Behind a
    reverse proxy (nginx, Caddy), keep it on 127.0.0.1, proxy to it, and set
    [web] url to the public address (digest links use it) and password_hash
    (without one the desk refuses what the proxy passes on). As part of the
    systemd service, set [web] enabled = true: `watcher run` then serves the
    desk from the same process. Saving a term here tells a running service to
    reload (SIGHUP). docs/web.md has the details.

    \b
    Example:
        watcher web
        watcher web --listen 127.0.0.1:9000
        watcher web hash-password
    """
    if ctx.invoked_subcommand is not None:
        return
    from watcher.web.server import serve_desk  # uvicorn and Starlette load only here

    obj: Context = ctx.obj
    config = obj.config

    def ready(url: str) -> None:
        click.echo(f"watcher: web desk at {url} (Ctrl-C stops)", err=True)

    asyncio.run(serve_desk(config, listen, ready))


@web.command("hash-password")
@click.option(
    "--password-stdin", is_flag=True, help="Read the password from stdin instead of asking."
)
def hash_password(password_stdin: bool) -> None:
    """Print an argon2 hash of a password, for [web] password_hash.

    \b
    Example:
        watcher web hash-password
        printf '%s' 'a long passphrase' | watcher web hash-password --password-stdin
    """
    from watcher.web.security import hash_password as argon2_hash

    if password_stdin:
        password = sys.stdin.read().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise click.UsageError("the password is empty")
    click.echo(argon2_hash(password))
