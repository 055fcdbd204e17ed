"""The audit chain: every action leaves an entry in its own transaction; editing, deleting or
reordering any row directly in SQL is caught by ``audit verify``, which names the entry."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from chaintrail.cli import main
from chaintrail.errors import ValidationError
from chaintrail.hub import audit, audit_verify, cases
from chaintrail.hub.anchor import check_anchor, make_anchor
from chaintrail.hub.setup import local_principal

from .conftest import HubEnv


def _fill(env: HubEnv, n_items: int = 6) -> int:
    """A case with notes; returns the number of audit entries."""
    hub = env.open()
    try:
        who = local_principal(hub)
        with hub.transaction() as s:
            case = cases.create_case(s, who, "tamper target", "AMBER")
        for i in range(n_items):
            with hub.transaction() as s:
                cases.add_item(s, who, case.id, "note", {"markdown": f"note {i}"})
        with hub.engine.connect() as con:
            result = audit_verify.verify(con)
        assert result.ok, result.reason
        return result.entries
    finally:
        hub.close()


def _tamper_and_verify(env: HubEnv, *sql: str) -> audit_verify.VerifyResult:
    hub = env.open()
    try:
        with hub.engine.begin() as con:
            for statement in sql:
                con.execute(text(statement))
        with hub.engine.connect() as con:
            return audit_verify.verify(con)
    finally:
        hub.close()


def _cli_verify(env: HubEnv, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``chaintrail audit verify`` through the real entry point: (exit code, stdout + stderr)."""
    args = ["audit", "verify", "--store", str(env.store)] + (["--db", env.url] if env.url else [])
    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_an_intact_chain_verifies_and_the_cli_says_so(
    hub_env: HubEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    n = _fill(hub_env)
    code, out = _cli_verify(hub_env, capsys)
    assert code == 0, out
    assert f"{n:,} entries" in out


@pytest.mark.parametrize(
    ("sql", "entry", "words"),
    [
        (["UPDATE audit_log SET user_name = 'mallory' WHERE seq = 5"], 5, "edited"),
        (["UPDATE audit_log SET detail = '{}' WHERE seq = 3"], 3, "edited"),
        (["DELETE FROM audit_log WHERE seq = 4"], 4, "deleted"),
        (["DELETE FROM audit_log WHERE seq IN (4, 5)"], 4, "deleted"),
        # swap two entries' contents (seq kept): the first moved one no longer links
        (
            [
                "UPDATE audit_log SET seq = -6 WHERE seq = 6",
                "UPDATE audit_log SET seq = 6 WHERE seq = 7",
                "UPDATE audit_log SET seq = 7 WHERE seq = -6",
            ],
            6,
            "does not link",
        ),  # fmt: skip
        (["DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"], None, "deleted"),
    ],
)
def test_tampering_is_detected_and_named(
    hub_env: HubEnv,
    sql: list[str],
    entry: int | None,
    words: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    n = _fill(hub_env)
    result = _tamper_and_verify(hub_env, *sql)
    assert not result.ok
    assert result.broken_seq == (entry if entry is not None else n)
    assert words in result.reason
    code, out = _cli_verify(hub_env, capsys)
    assert code == 1
    assert f"audit chain broken at entry {result.broken_seq}" in " ".join(out.split())
    assert "Traceback" not in out


def test_rewriting_an_entry_and_its_hash_breaks_the_next_link(hub_env: HubEnv) -> None:
    _fill(hub_env)
    hub = hub_env.open()
    try:
        with hub.engine.connect() as con:
            row = con.execute(
                text(f"SELECT {', '.join(audit.COLUMNS)} FROM audit_log WHERE seq = 4")
            ).one()
        forged = list(row)
        forged[3] = "mallory"
        new_hash = audit.entry_hash(tuple(forged))
        result = _tamper_and_verify(
            hub_env,
            f"UPDATE audit_log SET user_name = 'mallory', hash = '{new_hash}' WHERE seq = 4",
        )
    finally:
        hub.close()
    assert result.broken_seq == 5 and "does not link" in result.reason


def test_an_anchor_proves_history_was_not_rewritten(hub_env: HubEnv) -> None:
    _fill(hub_env)
    hub = hub_env.open()
    try:
        with hub.engine.connect() as con:
            anchor = make_anchor(con, hub_env.store)
            assert check_anchor(con, json.dumps(anchor), "anchor.json") == anchor["seq"]
            forged = dict(anchor, hash="0" * 64)
            with pytest.raises(ValidationError, match="signature"):
                check_anchor(con, json.dumps(forged), "anchor.json")
        # rewrite the whole chain consistently from entry 2 on: verify passes, the anchor does not
        with hub.engine.begin() as con:
            rows = con.execute(
                text(f"SELECT {', '.join(audit.COLUMNS)} FROM audit_log ORDER BY seq")
            ).all()
            prev = con.execute(text("SELECT hash FROM audit_log WHERE seq = 1")).scalar_one()
            for r in rows[1:]:
                body = list(r)
                body[3] = "rewritten"
                body[12] = prev
                digest = audit.entry_hash(tuple(body))
                con.execute(text("UPDATE audit_log SET user_name = 'rewritten', prev_hash = :p, hash = :h WHERE seq = :s"),
                            {"p": prev, "h": digest, "s": body[0]})  # fmt: skip
                prev = digest
            con.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": prev})
        with hub.engine.connect() as con:
            assert audit_verify.verify(con).ok  # a consistent rewrite passes the chain check ...
            with pytest.raises(ValidationError, match="rewritten"):
                check_anchor(con, json.dumps(anchor), "anchor.json")  # ... but not the anchor
    finally:
        hub.close()


def test_a_failed_action_leaves_no_entry_and_a_refusal_is_audited(hub_env: HubEnv) -> None:
    from chaintrail.errors import NotFoundError
    from chaintrail.hub.service import perform

    hub = hub_env.open()
    try:
        who = local_principal(hub)
        with hub.engine.connect() as con:
            before = audit_verify.verify(con).entries
        with pytest.raises(ValidationError), hub.transaction() as s:
            case = cases.create_case(s, who, "will roll back", "AMBER")
            cases.add_item(s, who, case.id, "address", {"address": "not-an-address"})
        with hub.engine.connect() as con:
            assert (
                audit_verify.verify(con).entries == before
            )  # case, item and entries all rolled back
            assert con.execute(text("SELECT count(*) FROM cases")).scalar_one() == 0
        with pytest.raises(NotFoundError):
            perform(hub, who, cases.read_case, 42)
        with hub.engine.connect() as con:
            last = con.execute(
                text("SELECT action, detail FROM audit_log ORDER BY seq DESC LIMIT 1")
            ).one()
        assert last[0] == "denied" and "case 42" in last[1]
    finally:
        hub.close()


@pytest.mark.parametrize("where", ["first", "at-split", "after-split", "last"])
def test_verification_split_over_processes_finds_the_same_first_break(
    hub_env: HubEnv, where: str
) -> None:
    n = _fill(hub_env, n_items=16)  # 19 entries: two ranges, 1-10 and 11-19
    half = -(-n // 2)
    victim = {
        "first": 1,
        "before-split": half - 1,
        "at-split": half,
        "after-split": half + 1,
        "last": n,
    }[where]
    hub = hub_env.open()
    try:
        whole = audit_verify.verify_url(hub.url, workers=2, parallel_from=0)
        assert whole.ok and whole.entries == n
        with hub.engine.begin() as con:
            con.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": victim})
        with hub.engine.connect() as con:
            serial = audit_verify.verify(con)
        split = audit_verify.verify_url(hub.url, workers=2, parallel_from=0)
    finally:
        hub.close()
    assert serial.broken_seq == split.broken_seq == victim
    assert "deleted" in split.reason
