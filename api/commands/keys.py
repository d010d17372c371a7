"""``tuneforge keys create|list|revoke``: API keys of accounts. A key is printed once and stored hashed."""

from __future__ import annotations

import typer
from rich.table import Table

from tuneforge.api.console import out, print_json

keys = typer.Typer(no_args_is_help=True, help="API keys: each belongs to an account and holds scopes.")


def register(app: typer.Typer, bench: typer.Typer) -> None:
    app.add_typer(keys, name="keys")


def _store():
    from tuneforge.core.settings import get_settings
    from tuneforge.db.accounts import KeyStore

    return KeyStore(get_settings().database_url)


@keys.command("create")
def create(name: str = typer.Argument(..., help="a name for the key, unique on this server"),
           scopes: str = typer.Option("read,submit,cancel", help="comma-separated: read, submit, cancel, admin"),
           account: str = typer.Option(None, help="the account the key acts for (default: the key's name)"),
           requests_per_minute: int = typer.Option(None, "--requests-per-minute",
                                                   help="this key's rate limit (default: the server's setting)"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a key and print it once: it is stored only as a hash and cannot be shown again."""
    from tuneforge.db.accounts import parse_scopes

    record, key = _store().create(name, account or name, parse_scopes(scopes), requests_per_minute)
    if as_json:
        return print_json({"name": record.name, "account": record.account, "scopes": list(record.scopes), "key": key})
    out.print(f"key [bold]{record.name}[/bold] for account [bold]{record.account}[/bold] "
              f"({','.join(record.scopes)}):")
    out.print(key, soft_wrap=True, highlight=False)
    out.print("[dim]shown once: send it as `Authorization: Bearer KEY` or set TUNEFORGE_API_KEY[/dim]")


@keys.command("list")
def list_keys(as_json: bool = typer.Option(False, "--json")) -> None:
    """List keys (names, accounts, scopes; never the keys themselves)."""
    rows = [{"name": r.name, "account": r.account, "scopes": list(r.scopes),
             "requests_per_minute": r.requests_per_minute, "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in _store().list()]
    if as_json:
        return print_json(rows)
    table = Table("name", "account", "scopes", "created", "revoked")
    for r in rows:
        table.add_row(r["name"], r["account"], ",".join(r["scopes"]), r["created_at"][:19], (r["revoked_at"] or "-")[:19])
    out.print(table)


@keys.command("revoke")
def revoke(name: str = typer.Argument(..., help="the key's name")) -> None:
    """Revoke a key: requests with it get 401 from now on (dashboard sessions made with it end too)."""
    record = _store().revoke(name)
    out.print(f"key {record.name} of account {record.account} revoked")
