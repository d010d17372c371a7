"""``tuneforge keys create|list|revoke``: API keys of accounts. A key is printed once and stored hashed."""

from __future__ import annotations

from dataclasses import asdict

import typer
from rich.table import Table

from tuneforge.api.console import fail, out, print_json
from tuneforge.core.errors import UserInputError

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
           active_jobs: int = typer.Option(None, "--active-jobs", help="jobs queued or running with this key at once"),
           trials_per_day: int = typer.Option(None, "--trials-per-day",
                                              help="trial budget this key may submit per 24 h"),
           device_seconds_per_day: float = typer.Option(None, "--device-seconds-per-day",
                                                        help="device time this key's jobs may spend per 24 h"),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Create a key and print it once: it is stored only as a hash and cannot be shown again. A key's
    limits apply within its account's (the server's TUNEFORGE_QUOTA_* settings)."""
    from tuneforge.db.accounts import KeyLimits, parse_scopes

    limits = KeyLimits(requests_per_minute, active_jobs, trials_per_day, device_seconds_per_day)
    try:
        record, key = _store().create(name, account or name, parse_scopes(scopes), limits)
    except UserInputError as exc:
        fail(str(exc))
    if as_json:
        return print_json({"name": record.name, "account": record.account, "scopes": list(record.scopes), "key": key})
    out.print(f"key [bold]{record.name}[/bold] for account [bold]{record.account}[/bold] "
              f"({','.join(record.scopes)}):")
    out.print(key, soft_wrap=True, highlight=False)
    out.print("[dim]shown once: send it as `Authorization: Bearer KEY` or set TUNEFORGE_API_KEY[/dim]")


@keys.command("list")
def list_keys(as_json: bool = typer.Option(False, "--json")) -> None:
    """List keys (names, accounts, scopes; never the keys themselves)."""
    rows = [{"name": r.name, "account": r.account, "scopes": list(r.scopes), "limits": asdict(r.limits),
             "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in _store().list()]
    if as_json:
        return print_json(rows)
    table = Table("name", "account", "scopes", "own limits", "created", "revoked")
    for r in rows:
        limits = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in r["limits"].items() if v is not None)
        table.add_row(r["name"], r["account"], ",".join(r["scopes"]), limits or "-", r["created_at"][:19],
                      (r["revoked_at"] or "-")[:19])
    out.print(table)


@keys.command("revoke")
def revoke(name: str = typer.Argument(..., help="the key's name")) -> None:
    """Revoke a key: requests with it get 401 from now on (dashboard sessions made with it end too)."""
    record = _store().revoke(name)
    out.print(f"key {record.name} of account {record.account} revoked")
