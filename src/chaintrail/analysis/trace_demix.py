"""Demixing: follow a traced party's own coins out of a CoinJoin instead of smearing taint.

Haircut alone spreads a party's taint over every participant of a mix. These rules pick the
party's outputs (docs/TRACING.md gives the reasoning and the confidences):

* ``amount``: outputs worth more than any single coin another participant brought are the
  party's (only it could have funded them: a whale among small participants).
* ``toxic_change``: the non-denomination output whose value equals the party's inputs minus a
  whole number of denominations (within the fee) is the party's change.
* ``cospend``: a postmix output later spent together with a coin already known to be the party's
  (the toxic change, a peel-chain coin, any traced coin).
* ``consolidation``: postmix outputs of the same mix later spent together in one tx (one wallet).
* ``exit_consolidation``: a postmix output swept by a consolidation that belongs to the
  party's *exit structure*: one-output txs spending outputs of the mixes the party entered,
  joined when their outputs are later spent together (staged consolidation), drawing on at
  least ``MIN_EXIT_MIXES`` of the party's mixes (a wallet gathering coins it mixed in many
  rounds; a payment with change is an ordinary spend, not part of it).
* ``common_destination``: postmix outputs whose spends pay the same address (one deposit).
* ``remix``: a postmix output spent into another CoinJoin together with another output of the
  same mix or a coin already known to be the party's with confidence >= ``SURE`` (not in a
  Whirlpool-style mix, where every party brings exactly one coin, so sitting next to the
  party's coin says nothing).
* ``anonymity_set``: what no rule links is spread over the outputs still open (remixed into
  another CoinJoin or unspent: where the party's coin can still be) or, if none, over every
  unlinked output of that denomination, with confidence (unlinked party outputs / outputs).

The party's outputs share its taint in proportion to value (haircut inside the party's coins).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chaintrail.analysis.coinjoin import MIXES, detect_coinjoins
from chaintrail.analysis.demix_state import DemixState
from chaintrail.analysis.trace_models import RULE_CONFIDENCE, Rule
from chaintrail.store.arrays import ChainArrays

MIN_EXIT_MIXES = 3  # an exit structure is the party's if it draws on this many party mixes
SURE = 0.9  # a traced coin this confident is the party's own (remix evidence)


def mix_transactions(chain: ChainArrays) -> np.ndarray:
    """Boolean per tx: a CoinJoin mix (the clustering module's detectors; Whirlpool tx0 is not
    a mix: one wallet builds it)."""
    return (detect_coinjoins(chain) & MIXES) != 0


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


def _spender(chain: ChainArrays, out_id: int) -> int:
    i = int(chain.out_spent_by[out_id])
    return -1 if i < 0 else int(chain.in_tx[i])


def _tx_inputs_prev(chain: ChainArrays, tx: int) -> np.ndarray:
    s = int(chain.tx_in_start[tx])
    return chain.in_prev_out[s : s + int(chain.tx_n_in[tx])]


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


def party_links(st: DemixState, tx: int, party_outs: np.ndarray) -> list[DemixLink]:
    """The outputs of CoinJoin ``tx`` that belong to the party who spent ``party_outs`` into it
    (``st``: the trace's :class:`DemixState`, with the coins known to be the party's and the
    party's mixes)."""
    outs = st.outputs(tx)
    vals = st.out_value[outs]
    uniq, counts = np.unique(vals, return_counts=True)
    denoms = uniq[(counts >= 2) & (uniq > 0)]
    is_denom = np.isin(vals, denoms)
    party_value = int(st.out_value[party_outs].sum())
    i0, n_in = int(st.tx_in_start[tx]), int(st.tx_n_in[tx])
    v_in = int(st.in_value[i0 : i0 + n_in].sum())
    tol = max(v_in - int(vals.sum()), party_value // 500, 1)
    links = _amount_links(st, tx, vals, outs, party_outs, party_value)
    taken = np.array([lk.out_id for lk in links], dtype=np.int64)
    party_value -= int(st.out_value[taken].sum())
    free = ~np.isin(outs, taken)

    # toxic change: the change output that completes the party's denominations
    candidates: list[tuple[int, int, dict[int, int]]] = []
    for k in np.nonzero(~is_denom & free)[0]:
        c = int(vals[k])
        if c <= 0 or c >= party_value:
            continue
        split = _decompose(party_value - c, denoms, tol)
        if split is not None:
            residual = party_value - c - sum(d * n for d, n in split.items())
            candidates.append((residual, int(outs[k]), split))
    best = _pick_toxic_change(st, candidates, outs)
    if best is not None:
        share = 1.0 if len(candidates) == 1 or best[3] else 1.0 / len(candidates)
        conf = RULE_CONFIDENCE[Rule.TOXIC_CHANGE] * share
        links.append(DemixLink(best[1], Rule.TOXIC_CHANGE, conf))
        expected = best[2]
    elif party_value > tol:
        expected = _decompose(party_value, denoms, tol) or {}
    else:
        expected = {}
    linked = {lk.out_id for lk in links}
    # a party with one coin in a one-coin-each mix has one output: two outputs of the mix spent
    # together belong to someone who brought two
    lone = party_outs.shape[0] == 1 and st.one_coin_each(tx)
    for d, k_d in expected.items():
        cand = outs[(vals == d) & free]
        links.extend(_link_denomination(st, cand, k_d, linked, lone))
    return links


def _amount_links(
    st: DemixState,
    tx: int,
    vals: np.ndarray,
    outs: np.ndarray,
    party_outs: np.ndarray,
    party_value: int,
) -> list[DemixLink]:
    """``amount``: outputs worth more than any input the party did not bring, which nobody
    else in the mix could have funded with one coin (a whale in a WabiSabi round), largest
    first while they fit in the party's value."""
    i0, n_in = int(st.tx_in_start[tx]), int(st.tx_n_in[tx])
    prev = st.in_prev_out[i0 : i0 + n_in]
    others = st.in_value[i0 : i0 + n_in][~np.isin(prev, party_outs)]
    top = int(others.max()) if others.size else 0
    links: list[DemixLink] = []
    left = party_value
    for k in np.argsort(-vals, kind="stable").tolist():
        v = int(vals[k])
        if v <= top:
            break
        if v <= left:
            links.append(DemixLink(int(outs[k]), Rule.AMOUNT, RULE_CONFIDENCE[Rule.AMOUNT]))
            left -= v
    return links


def _pick_toxic_change(
    st: DemixState, candidates: list[tuple[int, int, dict[int, int]]], mix_outs: np.ndarray
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
        mix_set = set(mix_outs.tolist())
        linked = []
        for cand in candidates:
            sp = int(st.spenders(np.array([cand[1]]))[0])
            if sp < 0:
                continue
            others = [p for p in st.inputs_prev(sp).tolist() if p != cand[1]]
            if any(p in mix_set or p in st.known for p in others):
                linked.append(cand)
        if len(linked) == 1:
            return (*linked[0], True)
    return (*min(candidates), False)


def _link_denomination(
    st: DemixState, cand: np.ndarray, k_d: int, linked: set[int], lone: bool = False
) -> list[DemixLink]:
    """Pick ``k_d`` of the postmix outputs ``cand`` by the strongest evidence available
    (``linked``: this mix's outputs already linked to the party by amount or toxic change;
    ``lone``: the party has exactly one of them, so outputs spent together are not its)."""
    spenders = st.spenders(cand.astype(np.int64))
    cand_set = set(int(e) for e in cand)
    evidence: dict[int, Rule] = {}
    still_open: list[int] = []  # unspent, or remixed without evidence: the coin may be there
    for e, sp in zip(cand.tolist(), spenders.tolist(), strict=True):
        if sp < 0:
            still_open.append(e)
            continue
        others = [p for p in st.inputs_prev(sp).tolist() if p != e]
        siblings = sum(p in cand_set for p in others)
        if st.coinjoin_tx[sp]:
            sure = siblings or any(p in st.sure or p in linked for p in others)
            if not st.one_coin_each(sp) and sure:
                evidence[e] = Rule.REMIX
            else:
                still_open.append(e)
        elif any(p in st.known or p in linked for p in others):
            evidence[e] = Rule.COSPEND
        elif siblings and lone:
            continue  # someone else's pair: neither linked nor open
        elif siblings:
            evidence[e] = Rule.CONSOLIDATION
        elif st.exit_mixes(sp) >= MIN_EXIT_MIXES:
            evidence[e] = Rule.EXIT_CONSOLIDATION
    # common destination: spends of different postmix outputs paying the same address
    dest_of: dict[int, set[int]] = {}
    for e, sp in zip(cand.tolist(), spenders.tolist(), strict=True):
        if sp >= 0 and e not in evidence and not st.coinjoin_tx[sp]:
            for a in st.out_addrs(sp).tolist():
                dest_of.setdefault(a, set()).add(e)
    for group in dest_of.values():
        if len(group) >= 2:
            for e in group:
                evidence.setdefault(e, Rule.COMMON_DESTINATION)

    links: list[DemixLink] = []
    need = k_d
    tiers = (Rule.COSPEND, Rule.CONSOLIDATION, Rule.EXIT_CONSOLIDATION, Rule.REMIX,
             Rule.COMMON_DESTINATION)  # fmt: skip
    for rule in tiers:
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
        done = {lk.out_id for lk in links}
        rest = [e for e in still_open if e not in done]
        if not rest:
            rest = [int(e) for e in cand if int(e) not in done]
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

    * ``toxic_change``: a change output links to the one input address whose coins are the
      change plus whole denominations;
    * ``amount``: an output only one input address brought enough to fund links to it;
    * ``cospend``: a postmix output later spent together with a change output of the same mix
      links where that change does (one wallet spent both);
    * ``anonymity_set``: otherwise every input, confidence 1 / input addresses.
    """
    s = int(chain.tx_out_start[tx])
    outs = np.arange(s, s + int(chain.tx_n_out[tx]), dtype=np.int64)
    vals = chain.out_value[outs]
    uniq, counts = np.unique(vals, return_counts=True)
    denoms = uniq[(counts >= 2) & (uniq > 0)]
    value = int(chain.out_value[out_id])
    i0 = int(chain.tx_in_start[tx])
    prev = chain.in_prev_out[i0 : i0 + int(chain.tx_n_in[tx])]
    in_vals = chain.in_value[i0 : i0 + int(chain.tx_n_in[tx])]
    in_addr = chain.in_addr[i0 : i0 + int(chain.tx_n_in[tx])]
    tol = max(int(in_vals.sum() - vals.sum()), 1)
    addrs = np.unique(in_addr[in_addr >= 0])

    def change_owner(change: int) -> np.ndarray | None:
        for a in addrs:
            mine = in_addr == a
            if _decompose(int(in_vals[mine].sum()) - change, denoms, tol) is not None:
                return mine
        return None

    if value not in set(int(d) for d in denoms):
        mine = change_owner(value)
        if mine is not None:
            conf = RULE_CONFIDENCE[Rule.TOXIC_CHANGE]
            return [DemixLink(int(p), Rule.TOXIC_CHANGE, conf) for p in prev[mine]]
    able = [a for a in addrs if int(in_vals[in_addr == a].sum()) >= value]
    if len(able) == 1 and len(addrs) > 1:
        mine = in_addr == able[0]
        return [DemixLink(int(p), Rule.AMOUNT, RULE_CONFIDENCE[Rule.AMOUNT]) for p in prev[mine]]
    sp = _spender(chain, out_id)
    if sp >= 0:
        others = _tx_inputs_prev(chain, sp)
        for y in others[np.isin(others, outs) & (others != out_id)].tolist():
            v = int(chain.out_value[y])
            if v in set(int(d) for d in denoms):
                continue
            mine = change_owner(v)
            if mine is not None:
                conf = RULE_CONFIDENCE[Rule.COSPEND] * RULE_CONFIDENCE[Rule.TOXIC_CHANGE]
                return [DemixLink(int(p), Rule.COSPEND, conf) for p in prev[mine]]
    n_parties = max(len(addrs), 1)
    return [DemixLink(int(p), Rule.ANONYMITY_SET, 1.0 / n_parties) for p in prev if p >= 0]


def whole_mix_links(chain: ChainArrays, tx: int, party_value: int) -> list[DemixLink]:
    """No rule applies: every output of the mix, in the party's proportion (plain haircut)."""
    s = int(chain.tx_out_start[tx])
    outs = range(s, s + int(chain.tx_n_out[tx]))
    total = max(float(chain.out_value[s : s + int(chain.tx_n_out[tx])].sum()), 1.0)
    share = min(1.0, party_value / total)
    return [DemixLink(k, Rule.ANONYMITY_SET, share, share) for k in outs]
