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

from dataclasses import dataclass, field

import numpy as np

from chaintrail.analysis.coinjoin import MIXES, detect_coinjoins
from chaintrail.analysis.trace_models import RULE_CONFIDENCE, Rule
from chaintrail.store.arrays import ChainArrays

MIN_EXIT_MIXES = 3  # an exit structure is the party's if it draws on this many party mixes
SURE = 0.9  # a traced coin this confident is the party's own (remix evidence)


@dataclass
class DemixState:
    """What one trace knows about the party's mixing: every mix its coins entered, and the
    exit structure built from them (exit tx -> how many party mixes its structure draws on)."""

    party_mixes: set[int] = field(default_factory=set)
    exit_mixes: dict[int, int] = field(default_factory=dict)

    def enter(self, chain: ChainArrays, mixes: np.ndarray, coinjoin_tx: np.ndarray) -> None:
        """Record that the party's coins entered ``mixes`` and rebuild the exit structure."""
        new = {int(t) for t in mixes} - self.party_mixes
        if not new:
            return
        self.party_mixes |= new
        self.exit_mixes = exit_structure(chain, sorted(self.party_mixes), coinjoin_tx)


def _spenders(chain: ChainArrays, outs: np.ndarray) -> np.ndarray:
    """The tx spending each output (-1 if unspent)."""
    spent_by = chain.out_spent_by[outs]
    res = np.full(outs.shape[0], -1, np.int64)
    ok = spent_by >= 0
    res[ok] = chain.in_tx[spent_by[ok]]
    return res


def exit_structure(chain: ChainArrays, mixes: list[int], coinjoin_tx: np.ndarray) -> dict[int, int]:
    """For every consolidation (a one-output, non-mix tx) spending an output of ``mixes`` (an
    *exit*): how many distinct ``mixes`` feed the exits joined with it. Two exits are joined
    when their outputs are spent by one later (non-mix) tx, or when one spends the other's
    output: the party gathering its coins in stages."""
    feed: dict[int, set[int]] = {}
    for m in mixes:
        s = int(chain.tx_out_start[m])
        outs = np.arange(s, s + int(chain.tx_n_out[m]), dtype=np.int64)
        for sp in _spenders(chain, outs).tolist():
            if sp >= 0 and not coinjoin_tx[sp] and int(chain.tx_n_out[sp]) == 1:
                feed.setdefault(sp, set()).add(m)
    if not feed:
        return {}
    exits = np.array(sorted(feed), dtype=np.int64)
    parent = {int(t): int(t) for t in exits}

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    by_next: dict[int, int] = {}
    for t in exits.tolist():
        s = int(chain.tx_out_start[t])
        outs = np.arange(s, s + int(chain.tx_n_out[t]), dtype=np.int64)
        for nxt in _spenders(chain, outs).tolist():
            if nxt < 0 or coinjoin_tx[nxt]:
                continue
            if nxt in parent:  # one exit feeds another: a later consolidation stage
                a, b = find(nxt), find(t)
                if a != b:
                    parent[b] = a
            if nxt in by_next:
                a, b = find(by_next[nxt]), find(t)
                if a != b:
                    parent[b] = a
            else:
                by_next[nxt] = t
    groups: dict[int, set[int]] = {}
    for t in exits.tolist():
        groups.setdefault(find(t), set()).update(feed[t])
    return {t: len(groups[find(t)]) for t in exits.tolist()}


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
    state: DemixState | None = None,
    sure_outs: np.ndarray | None = None,
) -> list[DemixLink]:
    """The outputs of CoinJoin ``tx`` that belong to the party who spent ``party_outs`` into it.

    ``known_outs`` (sorted) are coins already known to be the party's (traced so far),
    ``sure_outs`` those traced with confidence >= ``SURE`` (default: ``known_outs``); ``state``
    is the trace's :class:`DemixState` (the party's mixes and exit structure).
    """
    state = state or DemixState()
    sure = known_outs if sure_outs is None else sure_outs
    s = int(chain.tx_out_start[tx])
    outs = np.arange(s, s + int(chain.tx_n_out[tx]), dtype=np.int64)
    vals = chain.out_value[outs]
    uniq, counts = np.unique(vals, return_counts=True)
    denoms = uniq[(counts >= 2) & (uniq > 0)]
    is_denom = np.isin(vals, denoms)
    party_value = int(chain.out_value[party_outs].sum())
    i0, n_in = int(chain.tx_in_start[tx]), int(chain.tx_n_in[tx])
    v_in = int(chain.in_value[i0 : i0 + n_in].sum())
    tol = max(v_in - int(vals.sum()), party_value // 500, 1)
    links = _amount_links(chain, tx, outs, vals, party_outs, party_value)
    taken = np.array([lk.out_id for lk in links], dtype=np.int64)
    party_value -= int(chain.out_value[taken].sum())
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
    best = _pick_toxic_change(chain, candidates, outs, known_outs)
    if best is not None:
        share = 1.0 if len(candidates) == 1 or best[3] else 1.0 / len(candidates)
        conf = RULE_CONFIDENCE[Rule.TOXIC_CHANGE] * share
        links.append(DemixLink(best[1], Rule.TOXIC_CHANGE, conf))
        expected = best[2]
    elif party_value > tol:
        expected = _decompose(party_value, denoms, tol) or {}
    else:
        expected = {}
    known = np.union1d(known_outs, np.array([lk.out_id for lk in links], dtype=np.int64))

    sure = np.union1d(sure, np.array([lk.out_id for lk in links], dtype=np.int64))
    # a party with one coin in a one-coin-each mix has one output: two outputs of the mix spent
    # together belong to someone who brought two
    lone = party_outs.shape[0] == 1 and _one_coin_each(chain, tx)
    for d, k_d in expected.items():
        cand = outs[(vals == d) & free]
        links.extend(_link_denomination(chain, cand, k_d, known, sure, coinjoin_tx, state, lone))
    return links


def _amount_links(
    chain: ChainArrays,
    tx: int,
    outs: np.ndarray,
    vals: np.ndarray,
    party_outs: np.ndarray,
    party_value: int,
) -> list[DemixLink]:
    """``amount``: outputs worth more than any input the party did not bring, which nobody
    else in the mix could have funded with one coin (a whale in a WabiSabi round), largest
    first while they fit in the party's value."""
    i0, n_in = int(chain.tx_in_start[tx]), int(chain.tx_n_in[tx])
    prev = chain.in_prev_out[i0 : i0 + n_in]
    others = chain.in_value[i0 : i0 + n_in][~np.isin(prev, party_outs)]
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
            if np.isin(others, mix_outs).any() or np.isin(others, known_outs).any():
                linked.append(cand)
        if len(linked) == 1:
            return (*linked[0], True)
    return (*min(candidates), False)


def _one_coin_each(chain: ChainArrays, tx: int) -> bool:
    """A Whirlpool-style mix: as many inputs as outputs, every output of one value (each
    party brings one coin)."""
    n = int(chain.tx_n_out[tx])
    s = int(chain.tx_out_start[tx])
    vals = chain.out_value[s : s + n]
    return int(chain.tx_n_in[tx]) == n and bool((vals == vals[0]).all())


def _link_denomination(
    chain: ChainArrays,
    cand: np.ndarray,
    k_d: int,
    known: np.ndarray,
    sure: np.ndarray,
    coinjoin_tx: np.ndarray,
    state: DemixState,
    lone: bool = False,
) -> list[DemixLink]:
    """Pick ``k_d`` of the postmix outputs ``cand`` by the strongest evidence available
    (``lone``: the party has exactly one of them, so outputs spent together are not its)."""
    spenders = _spenders(chain, cand.astype(np.int64))
    cand_set = set(int(e) for e in cand)
    evidence: dict[int, Rule] = {}
    still_open: list[int] = []  # unspent, or remixed without evidence: the coin may be there
    for e, sp in zip(cand.tolist(), spenders.tolist(), strict=True):
        if sp < 0:
            still_open.append(e)
            continue
        prev = _tx_inputs_prev(chain, sp)
        others = prev[prev != e]
        siblings = sum(int(p) in cand_set for p in others)
        if coinjoin_tx[sp]:
            if not _one_coin_each(chain, sp) and (siblings or np.isin(others, sure).any()):
                evidence[e] = Rule.REMIX
            else:
                still_open.append(e)
        elif np.isin(others, known).any():
            evidence[e] = Rule.COSPEND
        elif siblings and lone:
            continue  # someone else's pair: neither linked nor open
        elif siblings:
            evidence[e] = Rule.CONSOLIDATION
        elif state.exit_mixes.get(sp, 0) >= MIN_EXIT_MIXES:
            evidence[e] = Rule.EXIT_CONSOLIDATION
    # common destination: spends of different postmix outputs paying the same address
    dest_of: dict[int, set[int]] = {}
    for e, sp in zip(cand.tolist(), spenders.tolist(), strict=True):
        if sp >= 0 and e not in evidence and not coinjoin_tx[sp]:
            for a in _tx_out_addrs(chain, int(sp)):
                dest_of.setdefault(int(a), set()).add(e)
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
        linked = {lk.out_id for lk in links}
        rest = [e for e in still_open if e not in linked]
        if not rest:
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
