"""Watch rules: what an organisation (or one of its users) watches, how loud, under which marking.

Kinds (``params`` in brackets):

* ``movement``: an output of a watched address, cluster or output is spent (``min_amount``);
  also raised ``pending`` when an unconfirmed transaction spends it;
* ``taint``: a new output receives at least ``min_percent`` % of its value (haircut) from a
  watched source within ``max_hops`` hops (an alert at each hop);
* ``service``: tainted funds as above reach a watched service's cluster ("the ransom just
  reached Exchange K's deposit address D");
* ``cluster_join``: a new address joins a watched cluster (common-input ownership);
* ``dormant``: an output older than ``min_blocks`` blocks worth at least ``min_amount`` is spent
  (of a watched address or cluster, or of any address without subjects);
* ``large_outflow``: at least ``min_amount`` leaves a watched cluster (any cluster without
  subjects) in one transaction.

Subjects come from a case's address, cluster and tx items (the caller must see them) and from
explicit addresses, clusters (by a member address) and outputs (``txid:vout``). Every change is
audited and bumps the ``watch_version`` setting, which a running ``follow`` re-reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chaintrail.errors import ForbiddenError, NotFoundError, ValidationError
from chaintrail.hub import audit
from chaintrail.hub.cases import visible_scope
from chaintrail.hub.directory import reach_of
from chaintrail.hub.items import normalise
from chaintrail.hub.models import Item, Setting, WatchRule, WatchSubject, utcnow
from chaintrail.hub.policy import READ_ROLES, access, parse_tlp
from chaintrail.hub.principal import Principal
from chaintrail.intel.store import IntelStore

KINDS = ("movement", "taint", "service", "cluster_join", "dormant", "large_outflow")
SEVERITIES = ("info", "low", "medium", "high", "critical")
SUBJECT_KINDS = ("address", "cluster", "output", "tx")
WATCH_VERSION = "watch_version"
_OUTPUT = re.compile(r"^([0-9a-fA-F]{64}):(\d{1,6})$")
DEFAULTS: dict[str, dict[str, float]] = {
    "movement": {"min_amount": 0},
    "taint": {"max_hops": 10, "min_percent": 10.0},
    "service": {"max_hops": 10, "min_percent": 10.0},
    "cluster_join": {},
    "dormant": {"min_blocks": 52_560, "min_amount": 0},
    "large_outflow": {"min_amount": 100_000_000},
}
NEEDS_SOURCES = frozenset({"movement", "taint", "service", "cluster_join"})


@dataclass
class SubjectIn:
    """One subject as a caller names it."""

    kind: str  # address | cluster | output | tx
    value: str
    role: str = "source"  # source | service
    item_id: int | None = None


@dataclass
class RuleIn:
    """A rule as a caller asks for it (CLI flags or the API body)."""

    name: str
    kind: str
    severity: str = "medium"
    tlp: str | None = None
    case_id: int | None = None
    subjects: list[SubjectIn] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    owner: str = "org"  # org | user


def _params(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    known = DEFAULTS[kind]
    extra = sorted(set(given) - set(known))
    if extra:
        raise ValidationError(
            f"a {kind} rule takes {', '.join(known) or 'no parameters'}, not {', '.join(extra)}",
            field="params",
        )
    out: dict[str, Any] = dict(known)
    for key, value in given.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValidationError(f"{key} must be a number >= 0, got {value!r}", field=key)
        out[key] = value
    if "min_percent" in out and not 0 < out["min_percent"] <= 100:
        raise ValidationError("min_percent is a percentage in (0, 100]", field="min_percent")
    for key in ("max_hops", "min_blocks", "min_amount"):
        if key in out:
            out[key] = int(out[key])
    return out


def _subject(s: SubjectIn) -> tuple[str, str]:
    if s.role not in ("source", "service"):
        raise ValidationError(f"subject role {s.role!r}: expected source or service", field="role")
    if s.kind not in SUBJECT_KINDS:
        raise ValidationError(
            f"subject kind {s.kind!r}: expected {', '.join(SUBJECT_KINDS)}", field="subjects"
        )
    if s.kind in ("address", "cluster"):
        subject, _, _ = normalise("address", {"address": s.value})
        return s.kind, subject
    if s.kind == "tx":
        subject, _, _ = normalise("tx", {"txid": s.value})
        return "tx", subject
    m = _OUTPUT.match(s.value.strip())
    if m is None:
        raise ValidationError(f"expected an output as TXID:VOUT, got {s.value!r}", field="subjects")
    return "output", f"{m.group(1).lower()}:{int(m.group(2))}"


def case_subjects(session: Session, who: Principal, case_id: int) -> tuple[str, list[SubjectIn]]:
    """The case's marking and the address, cluster and tx items of it ``who`` may see."""
    reach = reach_of(session, who)
    scope, _ = visible_scope(session, who, reach, case_id)
    out: list[SubjectIn] = []
    for item in session.scalars(select(Item).where(Item.case_id == case_id).order_by(Item.id)):
        if item.kind not in ("address", "cluster", "tx"):
            continue
        if access(who, reach, scope.marked(item), scope.shares, scope.members) is None:
            continue
        payload = json.loads(item.payload)
        if item.kind == "address":
            out.append(SubjectIn("address", payload["address"], item_id=item.id))
        elif item.kind == "tx":
            out.append(SubjectIn("tx", payload["txid"], item_id=item.id))
        elif payload.get("addresses"):
            out.append(SubjectIn("cluster", payload["addresses"][0], item_id=item.id))
    return scope.case.tlp, out


def bump_version(session: Session) -> None:
    """Tell running followers that rules changed (they re-read them)."""
    row = session.get(Setting, WATCH_VERSION)
    if row is None:
        session.add(Setting(key=WATCH_VERSION, value="1"))
    else:
        row.value = str(int(row.value) + 1)


def watch_version(session: Session) -> int:
    """The current rules version."""
    row = session.get(Setting, WATCH_VERSION)
    return int(row.value) if row else 0


def create_rule(session: Session, who: Principal, spec: RuleIn) -> WatchRule:
    """Create a rule owned by the caller's organisation (or by the caller, ``owner="user"``)."""
    if not who.roles & READ_ROLES or not who.can_write:
        raise ForbiddenError(
            "watch rules are made by investigators, analysts, supervisors or compliance "
            "officers with a write key"
        )
    if spec.kind not in KINDS:
        raise ValidationError(f"rule kind {spec.kind!r}: expected {', '.join(KINDS)}", field="kind")
    if spec.severity not in SEVERITIES:
        raise ValidationError(
            f"severity {spec.severity!r}: expected {', '.join(SEVERITIES)}", field="severity"
        )
    if spec.owner not in ("org", "user"):
        raise ValidationError(f"owner {spec.owner!r}: expected org or user", field="owner")
    name = spec.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("a rule name is 1-200 characters", field="name")
    params = _params(spec.kind, spec.params)
    subjects = list(spec.subjects)
    tlp = spec.tlp
    if spec.case_id is not None:
        case_tlp, from_case = case_subjects(session, who, spec.case_id)
        tlp = tlp or case_tlp
        subjects = from_case + subjects
    rows = {(s.role, *_subject(s)): s.item_id for s in subjects}
    roles = {r for r, _, _ in rows}
    if spec.kind in NEEDS_SOURCES and "source" not in roles:
        raise ValidationError(
            f"a {spec.kind} rule needs at least one watched subject (a case with address, "
            "cluster or tx items, or --address/--cluster/--output)",
            field="subjects",
        )
    if spec.kind == "service" and "service" not in roles:
        raise ValidationError(
            "a service rule needs the service's addresses (--service NAME or --service-address)",
            field="subjects",
        )
    if spec.kind != "service" and "service" in roles:
        raise ValidationError("service subjects belong to service rules", field="subjects")
    rule = WatchRule(
        owner_org_id=who.org_id, owner_user_id=who.user_id if spec.owner == "user" else None,
        name=name, kind=spec.kind, severity=spec.severity, tlp=parse_tlp(tlp or "AMBER"),
        case_id=spec.case_id, params=json.dumps(params, sort_keys=True), created_by=who.user_id,
        created_at=utcnow(),
    )  # fmt: skip
    session.add(rule)
    session.flush()
    for (role, kind, value), item_id in rows.items():
        session.add(WatchSubject(rule_id=rule.id, role=role, kind=kind, value=value, item_id=item_id))  # fmt: skip
    bump_version(session)
    session.flush()
    audit.append(session, who, "watch.create", "watch_rule", rule.id, case_id=spec.case_id,
                 marking=rule.tlp, detail={"name": name, "kind": spec.kind, "severity": spec.severity,
                                           "subjects": len(rows), "params": params})  # fmt: skip
    return rule


def _owned(session: Session, who: Principal, rule_id: int) -> WatchRule:
    rule = session.get(WatchRule, rule_id)
    if rule is None or rule.owner_org_id != who.org_id or (
        rule.owner_user_id is not None and rule.owner_user_id != who.user_id
    ):
        raise NotFoundError(f"watch rule {rule_id}: no such rule of yours or your organisation's")
    return rule


def disable_rule(session: Session, who: Principal, rule_id: int) -> WatchRule:
    """Stop a rule (its alerts stay); audited."""
    rule = _owned(session, who, rule_id)
    if not who.roles & READ_ROLES or not who.can_write:
        raise ForbiddenError("disabling a rule needs a case role or compliance officer, and a write key")  # fmt: skip
    if rule.disabled_at is None:
        session.execute(
            update(WatchRule).where(WatchRule.id == rule_id).values(disabled_at=utcnow())
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        bump_version(session)
        session.refresh(rule)
    audit.append(session, who, "watch.disable", "watch_rule", rule_id, case_id=rule.case_id, marking=rule.tlp)  # fmt: skip
    return rule


def rule_json(session: Session, rule: WatchRule) -> dict[str, Any]:
    """A rule with its subjects."""
    subjects = session.scalars(
        select(WatchSubject).where(WatchSubject.rule_id == rule.id).order_by(WatchSubject.id)
    )
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "severity": rule.severity, "tlp": rule.tlp,
            "case_id": rule.case_id, "owner": "user" if rule.owner_user_id else "org",
            "params": json.loads(rule.params), "enabled": rule.disabled_at is None,
            "created_at": rule.created_at.isoformat() + "Z",
            "subjects": [{"role": s.role, "kind": s.kind, "value": s.value, "item_id": s.item_id}
                         for s in subjects]}  # fmt: skip


def list_rules(session: Session, who: Principal) -> list[dict[str, Any]]:
    """The rules of the caller's organisation (and the caller's own); audited as a read."""
    q = select(WatchRule).where(
        WatchRule.owner_org_id == who.org_id,
        (WatchRule.owner_user_id.is_(None)) | (WatchRule.owner_user_id == who.user_id),
    )
    out = [rule_json(session, r) for r in session.scalars(q.order_by(WatchRule.id))]
    audit.append(session, who, "watch.list", "watch_rule", "*", detail={"rules": [r["id"] for r in out]}, read=True)  # fmt: skip
    return out


def service_subjects(store_dir: Path, service: str) -> list[SubjectIn]:
    """A service's tagged addresses (label or actor ``service``, from the imported TagPacks) as
    the clusters a ``service`` rule watches; ValidationError if nothing is tagged so."""
    with IntelStore.open(store_dir, read_only=True) as intel:
        rows = intel.query(
            "SELECT DISTINCT subject FROM tags WHERE subject_type = 'address' AND "
            "(lower(label) = lower(?) OR lower(coalesce(actor, '')) = lower(?)) ORDER BY subject",
            [service, service],
        )
    if not rows:
        raise ValidationError(
            f"no address is tagged {service!r}: import the service's TagPack first "
            "(chaintrail tags import) or give --service-address", field="service",
        )  # fmt: skip
    return [SubjectIn("cluster", r["subject"], role="service") for r in rows]
