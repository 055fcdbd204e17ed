"""``chaintrail follow``, ``chaintrail watch ...`` and ``chaintrail alerts ...``: real-time
monitoring (docs/MONITORING.md)."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from chaintrail.cli.common import (
    DEFAULT_STORE,
    JsonOption,
    StoreOption,
    btc,
    console,
    emit_json,
    err_console,
    styled,
)
from chaintrail.cli.hubcommon import AsOption, DbOption, hub_as
from chaintrail.errors import UsageError
from chaintrail.hub.models import Alert
from chaintrail.hub.monitor import inbox, rules
from chaintrail.hub.monitor.outbox import alert_json
from chaintrail.hub.service import perform
from chaintrail.store import ChainStore

watch_app = typer.Typer(help="Watch rules: what to alert on.", no_args_is_help=True)
alerts_app = typer.Typer(help="The organisation's alert inbox and delivery channels.", no_args_is_help=True)
COLOURS = {"info": "dim", "low": "cyan", "medium": "yellow", "high": "bold red", "critical": "bold white on red"}


def alert_line(a: Alert | dict[str, Any]) -> None:
    """Print one alert as a line (what ``follow`` shows as alerts arrive)."""
    d = alert_json(a) if isinstance(a, Alert) else a
    where = f"block {d['height']}" if d["height"] is not None else "mempool"
    amount = f" {btc(d['amount'])}" if d["amount"] else ""
    extra = d["detail"]
    hop = f" hop {extra['hops']} ({extra['percent']}%)" if "hops" in extra else ""
    tag = "RETRACTED" if d["event"] == "retraction" else d["event"].upper()
    console.print(styled(f"[{d['severity']}] {tag}", COLOURS.get(d["severity"], "")),
                  f"#{d['id']} {extra.get('rule', '')}: {d['kind']} {d['subject']}{amount}{hop} in {where}"
                  f" tx {(d['txid'] or '')[:16]}..", soft_wrap=True)  # fmt: skip


def follow(
    store: StoreOption = DEFAULT_STORE,
    rpc: Annotated[str | None, typer.Option("--rpc", help="Bitcoin Core RPC URL, e.g. http://127.0.0.1:8332/.")] = None,
    rpc_user: Annotated[str | None, typer.Option("--rpc-user", envvar="CHAINTRAIL_RPC_USER")] = None,
    rpc_password: Annotated[str | None, typer.Option("--rpc-password", envvar="CHAINTRAIL_RPC_PASSWORD")] = None,
    rpc_cookie: Annotated[Path | None, typer.Option("--rpc-cookie", help="Core's .cookie file.")] = None,
    blocks_dir: Annotated[Path | None, typer.Option("--blocks-dir", help="Follow a growing Core blocks/ folder instead.")] = None,
    zmq: Annotated[str | None, typer.Option("--zmq", help="Core's ZMQ publisher (hashblock, rawtx), e.g. tcp://127.0.0.1:28332.")] = None,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between polls (and the first back-off step).")] = 2.0,
    max_backoff: Annotated[float, typer.Option("--max-backoff", min=1, help="Longest wait between retries of a failing node.")] = 60.0,
    no_mempool: Annotated[bool, typer.Option("--no-mempool", help="Do not watch unconfirmed transactions.")] = False,
    no_deliver: Annotated[bool, typer.Option("--no-deliver", help="Only record alerts; another process delivers them.")] = False,
    from_height: Annotated[int | None, typer.Option("--from-height", min=0, help="On first use, evaluate stored blocks from here (default: the tip).")] = None,
    cluster_every: Annotated[int, typer.Option("--cluster-every", min=0, help="Persist clustering every N blocks (0: never).")] = 6,
    max_attempts: Annotated[int, typer.Option("--max-attempts", min=1, help="Delivery attempts before a dead letter.")] = 8,
    retry_base: Annotated[float, typer.Option("--retry-base", min=0.05, help="First retry delay in seconds (doubling).")] = 2.0,
    once: Annotated[bool, typer.Option("--once", help="Sync, evaluate and deliver once, then exit.")] = False,
    db: DbOption = None,
) -> None:
    """Follow a node (or blocks folder) block by block: ingest, cluster, evaluate watch rules,
    record and deliver alerts; a restart resumes exactly where it stopped."""
    # heavy: the block decoder loads numba; the other commands of this module start without it
    from chaintrail.hub.monitor.delivery import Deliverer, RetryPolicy
    from chaintrail.hub.monitor.runner import Monitor, run_forever
    from chaintrail.jobs.follow import Follower

    if (rpc is None) == (blocks_dir is None):
        raise UsageError("follow needs either --rpc URL or --blocks-dir DIR")
    if blocks_dir is not None and not blocks_dir.is_dir():
        raise UsageError(f"--blocks-dir {blocks_dir}: not a folder")
    hub, _ = hub_as(store, db, None)
    auth: dict[str, Any] = {"cookie_file": rpc_cookie} if rpc_cookie else ({"user": rpc_user, "password": rpc_password} if rpc_user else {})  # fmt: skip
    follower = Follower(ChainStore.open(store, create=True), rpc_url=rpc, blocks_dir=blocks_dir, auth=auth)
    stop = threading.Event()
    deliverer = Deliverer(hub, RetryPolicy(max_attempts=max_attempts, base=retry_base))
    try:
        if rpc:
            info = follower.check_node()
            err_console.print(f"following {rpc} ({info.get('chain')}, height {info.get('blocks')})")
        monitor = Monitor(hub, follower, on_alert=alert_line, from_height=from_height, cluster_every=cluster_every)
        if once:
            monitor.apply_sync(follower.sync())
            if not no_mempool:
                monitor.check_mempool(follower.new_mempool_txs())
            if not no_deliver:
                deliverer.run_once()
            return
        if not no_deliver:
            deliverer.run_in_thread(stop)
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            run_forever(monitor, poll=poll, max_backoff=max_backoff, zmq_url=zmq, mempool=not no_mempool,
                        stop=stop, on_error=lambda m: err_console.print(styled("node:", "yellow"), m))  # fmt: skip
        except KeyboardInterrupt:
            stop.set()
        s = monitor.stats
        err_console.print(f"stopped: {s.blocks} blocks, {s.alerts} alerts, {s.retractions} retractions, {s.pending} pending")  # fmt: skip
    finally:
        stop.set()
        deliverer.close()
        follower.close()
        hub.close()


def _act(store: Path, db: str | None, as_user: str | None, fn, *args, **kw):  # type: ignore[no-untyped-def]
    hub, who = hub_as(store, db, as_user)
    try:
        return perform(hub, who, fn, *args, **kw)
    finally:
        hub.close()


@watch_app.command("add")
def watch_add(
    name: Annotated[str, typer.Argument(help="What the rule is for.")],
    kind: Annotated[str, typer.Option("--kind", help=f"One of {', '.join(rules.KINDS)}.")] = "movement",
    severity: Annotated[str, typer.Option("--severity", help=f"One of {', '.join(rules.SEVERITIES)}.")] = "medium",
    case: Annotated[int | None, typer.Option("--case", min=1, help="Watch this case's address, cluster and tx items.")] = None,
    address: Annotated[list[str] | None, typer.Option("--address", help="A watched address (repeatable).")] = None,
    cluster: Annotated[list[str] | None, typer.Option("--cluster", help="A watched cluster, by a member address (repeatable).")] = None,
    output: Annotated[list[str] | None, typer.Option("--output", help="A watched output TXID:VOUT (repeatable).")] = None,
    service: Annotated[list[str] | None, typer.Option("--service", help="A service rule's service, by its tag label (repeatable).")] = None,
    service_address: Annotated[list[str] | None, typer.Option("--service-address", help="A service's address (repeatable).")] = None,
    max_hops: Annotated[int | None, typer.Option("--max-hops", min=1)] = None,
    min_percent: Annotated[float | None, typer.Option("--min-percent")] = None,
    min_amount: Annotated[int | None, typer.Option("--min-amount", min=0, help="Satoshis.")] = None,
    min_blocks: Annotated[int | None, typer.Option("--min-blocks", min=1, help="Dormancy in blocks.")] = None,
    tlp: Annotated[str | None, typer.Option("--tlp", help="Marking of its alerts (default: the case's, else AMBER).")] = None,
    mine: Annotated[bool, typer.Option("--mine", help="Owned by you, not your organisation.")] = False,
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Create a watch rule (audited)."""
    subjects = [rules.SubjectIn("address", a) for a in address or []]
    subjects += [rules.SubjectIn("cluster", a) for a in cluster or []]
    subjects += [rules.SubjectIn("output", o) for o in output or []]
    for name_ in service or []:
        subjects += rules.service_subjects(store, name_)
    subjects += [rules.SubjectIn("cluster", a, role="service") for a in service_address or []]
    given = {"max_hops": max_hops, "min_percent": min_percent, "min_amount": min_amount, "min_blocks": min_blocks}
    spec = rules.RuleIn(name, kind, severity, tlp, case, subjects,
                        {k: v for k, v in given.items() if v is not None}, "user" if mine else "org")  # fmt: skip
    out = _act(store, db, as_user, lambda s, who: rules.rule_json(s, rules.create_rule(s, who, spec)))
    if json_out:
        emit_json(out)
    else:
        err_console.print(f"watch rule {out['id']} ({out['kind']}, {out['severity']}, TLP:{out['tlp']}): "
                          f"{len(out['subjects'])} subjects; a running `chaintrail follow` picks it up")  # fmt: skip


@watch_app.command("list")
def watch_list(store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None,
               json_out: JsonOption = False) -> None:  # fmt: skip
    """Your organisation's rules (and your own)."""
    rows = _act(store, db, as_user, rules.list_rules)
    if json_out:
        emit_json(rows)
        return
    table = Table("id", "name", "kind", "severity", "TLP", "case", "subjects", "enabled")
    for r in rows:
        table.add_row(str(r["id"]), r["name"], r["kind"], r["severity"], r["tlp"], str(r["case_id"] or ""),
                      str(len(r["subjects"])), "yes" if r["enabled"] else "no")  # fmt: skip
    console.print(table)


@watch_app.command("disable")
def watch_disable(rule_id: Annotated[int, typer.Argument(min=1)], store: StoreOption = DEFAULT_STORE,
                  db: DbOption = None, as_user: AsOption = None) -> None:  # fmt: skip
    """Stop a rule (its alerts stay)."""
    _act(store, db, as_user, rules.disable_rule, rule_id)
    err_console.print(f"watch rule {rule_id} disabled")


@alerts_app.command("list")
def alerts_list(
    after: Annotated[int, typer.Option("--after", min=0, help="Only alerts with a larger id.")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    unacked: Annotated[bool, typer.Option("--unacked", help="Only alerts nobody acknowledged.")] = False,
    severity: Annotated[str, typer.Option("--severity", help="At least this severity.")] = "info",
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Your organisation's inbox, oldest first."""
    rows = _act(store, db, as_user, inbox.list_alerts, after=after, limit=limit, unacked=unacked, min_severity=severity)  # fmt: skip
    if json_out:
        emit_json(rows)
        return
    for r in rows:
        alert_line(r)
    if not rows:
        err_console.print("no alerts")


@alerts_app.command("ack")
def alerts_ack(alert_id: Annotated[list[int], typer.Argument(help="Alert ids.")], store: StoreOption = DEFAULT_STORE,
               db: DbOption = None, as_user: AsOption = None) -> None:  # fmt: skip
    """Acknowledge alerts (audited)."""
    for a in alert_id:
        _act(store, db, as_user, inbox.ack_alert, a)
    err_console.print(f"acknowledged {len(alert_id)} alert(s)")


@alerts_app.command("channel")
def alerts_channel(
    target: Annotated[str, typer.Argument(help="https://... (webhook) or nats://HOST:PORT/SUBJECT[?stream=NAME].")],
    min_severity: Annotated[str, typer.Option("--min-severity")] = "info",
    store: StoreOption = DEFAULT_STORE, db: DbOption = None, as_user: AsOption = None, json_out: JsonOption = False,
) -> None:  # fmt: skip
    """Send your organisation's alerts to a webhook (its HMAC secret is printed once) or NATS."""
    kind = "nats" if target.startswith(("nats://", "tls://")) else "webhook"
    ch, secret = _act(store, db, as_user, inbox.add_channel, kind, target, min_severity=min_severity)
    if json_out:
        emit_json({"id": ch.id, "kind": kind, "target": target, "secret": secret})
    else:
        err_console.print(f"channel {ch.id} ({kind}) -> {target}")
        if secret:
            console.print(secret)


def register(app: typer.Typer) -> None:
    """Add ``follow``, ``watch`` and ``alerts``."""
    app.command("follow")(follow)
    app.add_typer(watch_app, name="watch")
    app.add_typer(alerts_app, name="alerts")
