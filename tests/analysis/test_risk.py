"""Risk score: the strongest fired rule wins, and every fired rule is a reason."""

from __future__ import annotations

from chaintrail.analysis.exposure import CategoryExposure, SideExposure
from chaintrail.analysis.risk import RULES, score_risk, severity_of
from chaintrail.intel.taxonomy import load_taxonomy


def _side(total: int, *cats: tuple[str, int, int]) -> SideExposure:
    rows = [CategoryExposure(c, d, i, d + i, 100.0 * (d + i) / total) for c, d, i in cats]
    return SideExposure(total, rows, 0, 0, 0)


def test_direct_sanctioned_exposure_scores_10():
    res = score_risk([], {"received": _side(1000, ("sanction", 1, 0), ("scam", 0, 400))})
    assert res.score == 10
    assert [r.rule for r in res.reasons] == ["DIRECT_SANCTIONED", "INDIRECT_ILLICIT_MAJOR"]
    assert res.reasons[0].amount == 1 and "received" in res.reasons[0].reason


def test_shares_decide_between_major_and_minor_rules():
    minor = score_risk([], {"sent": _side(1000, ("market", 50, 0))})
    major = score_risk([], {"sent": _side(1000, ("market", 200, 0))})
    assert (minor.score, minor.reasons[0].rule) == (6, "DIRECT_ILLICIT")
    assert (major.score, major.reasons[0].rule) == (8, "DIRECT_ILLICIT_MAJOR")


def test_own_tags_and_broader_concepts_count():
    ancestors = load_taxonomy().ancestors
    assert severity_of("sextortion", ancestors) == "severe"  # sextortion -> extortion
    res = score_risk(["sextortion"], {}, ancestors=ancestors)
    assert (res.score, res.reasons[0].rule) == (10, "SELF_SEVERE")


def test_clean_and_service_only_exposure_scores_0():
    res = score_risk([], {"received": _side(1000, ("exchange", 900, 100))})
    assert res.score == 0 and res.reasons == []


def test_rules_are_strongest_first_within_each_class():
    seen: dict[tuple[str, str], int] = {}
    for r in RULES:
        key = (r.where, r.severity)
        assert seen.get(key, 11) >= r.score, r.id
        seen[key] = r.score
