"""Demixing: follow a traced party's own coins out of a CoinJoin instead of smearing taint.

Haircut alone spreads a party's taint over every participant of a mix. These rules pick the
party's outputs (docs/TRACING.md gives the reasoning and the confidences):

* ``toxic_change``: the non-denomination output whose value equals the party's inputs minus a
  whole number of denominations (within the fee) is the party's change.
* ``cospend``: a postmix output later spent together with a coin already known to be the party's
  (the toxic change, a peel-chain coin, any traced coin).
* ``consolidation``: postmix outputs of the same mix later spent together in one tx (one wallet).
* ``common_destination``: postmix outputs whose spends pay the same address (one deposit).
* ``remix``: a postmix output spent into another CoinJoin together with a known party coin.
* ``anonymity_set``: what no rule links is spread over the unlinked outputs of that
  denomination, with confidence (unlinked party outputs / outputs left).

The party's outputs share its taint in proportion to value (haircut inside the party's coins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaintrail.analysis.coinjoin import MERGE_BLOCKING, detect_coinjoins
from chaintrail.analysis.trace_models import RULE_CONFIDENCE, Rule
from chaintrail.store.arrays import ChainArrays


def mix_transactions(chain: ChainArrays) -> np.ndarray:
    """Boolean per tx: a CoinJoin mix (the clustering module's detectors; Whirlpool tx0 is not
    a mix: one wallet builds it)."""
    return (detect_coinjoins(chain) & MERGE_BLOCKING) != 0


@dataclass
class DemixLink:
    """One output linked to the party: the rule, its confidence, and the party's share of it.

    ``share`` is 1 for a definite link; when a rule finds n candidates for m < n party outputs
    (or the anonymity set takes the rest), each candidate carries m/n of its value.
    """

    out_id: int
    rule: Rule
    confidence: float
    share: float = 1.0


def _any_in_sorted(values: np.ndarray, sorted_ids: np.ndarray) -> bool:
    """Whether any of ``values`` is in the ascending ``sorted_ids``: a binary search per value
    (``np.isin`` re-sorts both arrays on every call, and a long trace knows millions of coins)."""
    if values.size == 0 or sorted_ids.size == 0:
        return False
    pos = np.minimum(np.searchsorted(sorted_ids, values), sorted_ids.size - 1)
    return bool((sorted_ids[pos] == values).any())


def _spender(chain: ChainArrays, out_id: int) -> int:
    i = int(chain.out_spent_by[out_id])
    return -1 if i < 0 else int(chain.in_tx[i])


def _tx_inputs_prev(chain: ChainArrays, tx: int) -> np.ndarray:
    s = int(chain.tx_in_start[tx])
    return chain.in_prev_out[s : s + int(chain.tx_n_in[tx])]


def _tx_out_addrs(chain: ChainArrays, tx: int) -> np.ndarray:
    s = int(chain.tx_out_start[tx])
    a = chain.out_addr[s : s + int(chain.tx_n_out[tx])]
    return a[a >= 0]


def _decompose(amount: int, denoms: np.ndarray, tol: int) -> dict[int, int] | None:
    """Whole denominations (largest first) making up ``amount`` within ``tol``; None if not."""
    counts: dict[int, int] = {}
    rest = amount
    for d in sorted((int(x) for x in denoms), reverse=True):
        k = rest // d
        if k > 0:
            counts[d] = int(k)
            rest -= k * d
    return counts if counts and 0 <= rest <= tol else None


def party_links(
    chain: ChainArrays,
    tx: int,
    party_outs: np.ndarray,
    known_outs: np.ndarray,
    coinjoin_tx: np.ndarray,
) -> list[DemixLink]:
    """The outputs of CoinJoin ``tx`` that belong to the party who spent ``party_outs`` into it.

    ``known_outs`` (sorted) are coins already known to be the party's (traced so far).
    """
    s = int(chain.tx_out_start[tx])
    outs = np.arange(s, s + int(chain.tx_n_out[tx]), dtype=np.int64)
    vals = chain.out_value[outs]
    uniq, counts = np.unique(vals, return_counts=True)
    denoms = uniq[(counts >= 2) & (uniq > 0)]
    is_denom = np.isin(vals, denoms)
    party_value = int(chain.out_value[party_outs].sum())
    v_in = int(
        chain.in_value[chain.tx_in_start[tx] : chain.tx_in_start[tx] + chain.tx_n_in[tx]].sum()
    )
    tol = max(v_in - int(vals.sum()), party_value // 500, 1)
    links: list[DemixLink] = []

    # toxic change: the change output that completes the party's denominations
    candidates: list[tuple[int, int, dict[int, int]]] = []
    for k in np.nonzero(~is_denom)[0]:
        c = int(vals[k])
        if c <= 0 or c >= party_value:
            continue
        split = _decompose(party_value - c, denoms, tol)
        if split is not None:
            residual = party_value - c - sum(d * n for d, n in split.items())
            candidates.append((residual, int(outs[k]), split))
    best = _pick_toxic_change(chain, candidates, outs, known_outs)
    if best is not None:
        share = 1.0 if len(candidates) == 1 or best[3] else 1.0 / len(candidates)
        conf = RULE_CONFIDENCE[Rule.TOXIC_CHANGE] * share
        links.append(DemixLink(best[1], Rule.TOXIC_CHANGE, conf))
        expected = best[2]
    else:
        expected = _decompose(party_value, denoms, tol) or {}
    known = np.union1d(known_outs, np.array([lk.out_id for lk in links], dtype=np.int64))

    for d, k_d in expected.items():
        cand = outs[vals == d]
        links.extend(_link_denomination(chain, tx, cand, k_d, known, coinjoin_tx))
    return links


def _pick_toxic_change(
    chain: ChainArrays,
    candidates: list[tuple[int, int, dict[int, int]]],
    mix_outs: np.ndarray,
    known_outs: np.ndarray,
) -> tuple[int, int, dict[int, int], bool] | None:
    """The party's change among outputs that each complete whole denominations.

    Several outputs can fit within the fee tolerance (one more denomination with less fee).
    Evidence decides first: the one candidate later spent together with a postmix output of
    the same mix or with a coin known to be the party's (the owner consolidating its own
    coins). Without such evidence the smallest residual wins and the caller divides the
    confidence by the number of candidates. The last element says whether evidence decided.
    """
    if not candidates:
        return None
    if len(candidates) > 1:
        linked = []
        for cand in candidates:
            sp = _spender(chain, cand[1])
            if sp < 0:
                continue
            prev = _tx_inputs_prev(chain, sp)
            others = prev[prev != cand[1]]
            if _any_in_sorted(others, mix_outs) or _any_in_sorted(others, known_outs):
                linked.append(cand)
        if len(linked) == 1:
            return (*linked[0], True)
    return (*min(candidates), False)


def _link_denomination(
    chain: ChainArrays,
    tx: int,
    cand: np.ndarray,
    k_d: int,
    known: np.ndarray,
    coinjoin_tx: np.ndarray,
) -> list[DemixLink]:
    """Pick ``k_d`` of the postmix outputs ``cand`` by the strongest evidence available."""
    spenders = np.array([_spender(chain, int(e)) for e in cand], dtype=np.int64)
    cand_set = set(int(e) for e in cand)
    evidence: dict[int, Rule] = {}
    for e, sp in zip(cand, spenders, strict=True):
        if sp < 0:
            continue
        prev = _tx_inputs_prev(chain, int(sp))
        with_known = _any_in_sorted(prev[prev != e], known)
        if with_known:
            evidence[int(e)] = Rule.REMIX if coinjoin_tx[sp] else Rule.COSPEND
        elif not coinjoin_tx[sp] and sum(int(p) in cand_set for p in prev) >= 2:
            evidence[int(e)] = Rule.CONSOLIDATION
    # common destination: spends of different postmix outputs paying the same address
    dest_of: dict[int, set[int]] = {}
    for e, sp in zip(cand, spenders, strict=True):
        if sp >= 0 and int(e) not in evidence and not coinjoin_tx[sp]:
            for a in _tx_out_addrs(chain, int(sp)):
                dest_of.setdefault(int(a), set()).add(int(e))
    for group in dest_of.values():
        if len(group) >= 2:
            for e in group:
                evidence.setdefault(e, Rule.COMMON_DESTINATION)

    links: list[DemixLink] = []
    need = k_d
    for rule in (Rule.COSPEND, Rule.REMIX, Rule.CONSOLIDATION, Rule.COMMON_DESTINATION):
        if need <= 0:
            break
        tier = [e for e, r in evidence.items() if r == rule]
        if not tier:
            continue
        take = min(need, len(tier))
        share = take / len(tier)  # more candidates than party outputs: share the doubt
        links.extend(DemixLink(e, rule, RULE_CONFIDENCE[rule] * share, share) for e in tier)
        need -= take
    if need > 0:
        linked = {lk.out_id for lk in links}
        rest = [int(e) for e in cand if int(e) not in linked]
        if rest:
            share = min(1.0, need / len(rest))
            links.extend(DemixLink(e, Rule.ANONYMITY_SET, share, share) for e in rest)
    return links


def demix_amounts(
    chain: ChainArrays, links: list[DemixLink], party_value: int, taint: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spread ``taint`` over linked outputs: (out ids, amounts, confidences, rules).

    Output ``o`` gets ``value(o) * share * taint / party_value`` (haircut inside the party's
    coins); the total never exceeds ``taint``.
    """
    out_ids = np.array([lk.out_id for lk in links], dtype=np.int64)
    conf = np.array([lk.confidence for lk in links], dtype=np.float64)
    share = np.array([lk.share for lk in links], dtype=np.float64)
    rules = np.array([int(lk.rule) for lk in links], dtype=np.uint8)
    frac = taint / party_value if party_value > 0 else 0.0
    amounts = chain.out_value[out_ids].astype(np.float64) * share * frac
    total = float(amounts.sum())
    if total > taint > 0:
        amounts *= taint / total
    return out_ids, amounts, conf, rules


def demix_backward(chain: ChainArrays, tx: int, out_id: int) -> list[DemixLink]:
    """The inputs (as spent out ids) a CoinJoin output ``out_id`` came from.

    A toxic change output links to the one input (or one address's inputs) whose value is the
    change plus whole denominations; a postmix output draws on every input (anonymity set,
    confidence 1 / number of input addresses).
    """
    s = int(chain.tx_out_start[tx])
    vals = chain.out_value[s : s + int(chain.tx_n_out[tx])]
    uniq, counts = np.unique(vals, return_counts=True)
    denoms = uniq[(counts >= 2) & (uniq > 0)]
    value = int(chain.out_value[out_id])
    i0 = int(chain.tx_in_start[tx])
    prev = chain.in_prev_out[i0 : i0 + int(chain.tx_n_in[tx])]
    in_vals = chain.in_value[i0 : i0 + int(chain.tx_n_in[tx])]
    in_addr = chain.in_addr[i0 : i0 + int(chain.tx_n_in[tx])]
    if value not in set(int(d) for d in denoms):
        tol = max(int(in_vals.sum() - vals.sum()), 1)
        for a in np.unique(in_addr[in_addr >= 0]):
            mine = in_addr == a
            if _decompose(int(in_vals[mine].sum()) - value, denoms, tol) is not None:
                conf = RULE_CONFIDENCE[Rule.TOXIC_CHANGE]
                return [DemixLink(int(p), Rule.TOXIC_CHANGE, conf) for p in prev[mine]]
    n_parties = max(len(np.unique(in_addr[in_addr >= 0])), 1)
    return [DemixLink(int(p), Rule.ANONYMITY_SET, 1.0 / n_parties) for p in prev if p >= 0]


def whole_mix_links(chain: ChainArrays, tx: int, party_value: int) -> list[DemixLink]:
    """No rule applies: every output of the mix, in the party's proportion (plain haircut)."""
    s = int(chain.tx_out_start[tx])
    outs = range(s, s + int(chain.tx_n_out[tx]))
    total = max(float(chain.out_value[s : s + int(chain.tx_n_out[tx])].sum()), 1.0)
    share = min(1.0, party_value / total)
    return [DemixLink(k, Rule.ANONYMITY_SET, share, share) for k in outs]
