"""Risk score 0-10 with the reasons that produced it, from tags and exposure.

Every rule is in :data:`RULES` (docs/TRACING.md lists them): the score is the highest score of
the rules that fire, and every fired rule is a reason. Categories are GraphSense taxonomy ids;
a sub-concept counts as its broader concept (``sextortion`` -> ``extortion`` -> severe).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chaintrail.analysis.exposure import SideExposure

# severity classes of taxonomy concepts (a concept's ancestors are checked too)
SEVERITY: dict[str, str] = {
    "sanction": "sanctioned",
    "gov_black_list": "sanctioned",
    "terrorism_financing": "sanctioned",
    "terrorism": "sanctioned",
    "ransomware": "severe",
    "child_sexual_abuse": "severe",
    "human_trafficking": "severe",
    "extortion": "severe",
    "violence": "severe",
    "market": "illicit",
    "dark_web": "illicit",
    "scam": "illicit",
    "phishing": "illicit",
    "hacking": "illicit",
    "drugs": "illicit",
    "weapons": "illicit",
    "financial_crime": "illicit",
    "counterfeit": "illicit",
    "abuse": "illicit",
    "mixing_service": "mixer",
    "mixing": "mixer",
    "gambling": "gambling",
}


@dataclass(frozen=True)
class RiskRule:
    """One documented rule: which class, tag or direct/indirect exposure, share, score."""

    id: str
    severity: str
    where: str  # "self" (the subject is tagged), "direct" or "indirect"
    min_percent: float
    score: int
    text: str


RULES: tuple[RiskRule, ...] = (
    RiskRule("SELF_SANCTIONED", "sanctioned", "self", 0, 10, "the subject is sanctioned"),
    RiskRule("SELF_SEVERE", "severe", "self", 0, 10, "the subject is tagged {cat}"),
    RiskRule("SELF_ILLICIT", "illicit", "self", 0, 9, "the subject is tagged {cat}"),
    RiskRule("SELF_MIXER", "mixer", "self", 0, 8, "the subject is a mixer"),
    RiskRule("DIRECT_SANCTIONED", "sanctioned", "direct", 0, 10, "direct exposure to a sanctioned entity"),
    RiskRule("DIRECT_SEVERE", "severe", "direct", 0, 9, "direct exposure to {cat}"),
    RiskRule("DIRECT_ILLICIT_MAJOR", "illicit", "direct", 10, 8, "direct exposure to {cat} >= 10%"),
    RiskRule("DIRECT_ILLICIT", "illicit", "direct", 0, 6, "direct exposure to {cat}"),
    RiskRule("INDIRECT_SANCTIONED_MAJOR", "sanctioned", "indirect", 5, 8, "indirect exposure to a sanctioned entity >= 5%"),
    RiskRule("INDIRECT_SEVERE_MAJOR", "severe", "indirect", 5, 7, "indirect exposure to {cat} >= 5%"),
    RiskRule("INDIRECT_SANCTIONED", "sanctioned", "indirect", 0, 6, "indirect exposure to a sanctioned entity"),
    RiskRule("INDIRECT_SEVERE", "severe", "indirect", 0, 5, "indirect exposure to {cat}"),
    RiskRule("DIRECT_MIXER_MAJOR", "mixer", "direct", 10, 6, "direct exposure to a mixer >= 10%"),
    RiskRule("INDIRECT_ILLICIT_MAJOR", "illicit", "indirect", 10, 5, "indirect exposure to {cat} >= 10%"),
    RiskRule("DIRECT_MIXER", "mixer", "direct", 0, 4, "direct exposure to a mixer"),
    RiskRule("INDIRECT_ILLICIT", "illicit", "indirect", 0, 3, "indirect exposure to {cat}"),
    RiskRule("DIRECT_GAMBLING", "gambling", "direct", 0, 2, "direct exposure to gambling"),
    RiskRule("INDIRECT_MIXER", "mixer", "indirect", 0, 2, "indirect exposure to a mixer"),
)  # fmt: skip


@dataclass
class RiskReason:
    """A fired rule: its id, points, the sentence, and the satoshis behind it."""

    rule: str
    score: int
    reason: str
    category: str | None
    amount: int
    percent: float


@dataclass
class RiskScore:
    """Score 0-10 (max over fired rules) and every reason, highest first."""

    score: int
    reasons: list[RiskReason]


def severity_of(category: str, ancestors: Callable[[str], list[str]] | None = None) -> str | None:
    """Severity class of a taxonomy category (its own, else its nearest ancestor's)."""
    for c in [category, *(ancestors(category) if ancestors else [])]:
        if c in SEVERITY:
            return SEVERITY[c]
    return None


def score_risk(
    own_categories: list[str],
    exposure: dict[str, SideExposure],
    *,
    ancestors: Callable[[str], list[str]] | None = None,
) -> RiskScore:
    """Apply :data:`RULES` to the subject's own tags and its received/sent exposure."""
    reasons: list[RiskReason] = []
    for cat in own_categories:
        sev = severity_of(cat, ancestors)
        for r in RULES:
            if r.where == "self" and r.severity == sev:
                reasons.append(RiskReason(r.id, r.score, r.text.format(cat=cat), cat, 0, 100.0))
                break
    for side_name, side in exposure.items():
        for ce in side.by_category:
            sev = severity_of(ce.category, ancestors)
            if sev is None:
                continue
            for where, amount in (("direct", ce.direct), ("indirect", ce.indirect)):
                if amount <= 0:
                    continue
                pct = 100.0 * amount / side.total if side.total else 0.0
                for r in RULES:  # rules are ordered by score: the first match is the strongest
                    if r.where == where and r.severity == sev and pct >= r.min_percent:
                        text = f"{r.text.format(cat=ce.category)} ({side_name})"
                        reasons.append(
                            RiskReason(r.id, r.score, text, ce.category, amount, round(pct, 4))
                        )
                        break
    reasons.sort(key=lambda x: (-x.score, -x.amount))
    return RiskScore(score=max((r.score for r in reasons), default=0), reasons=reasons)
