"""Exposure: received (backward) and sent (forward) haircut amounts per tagged category."""

from __future__ import annotations

import numpy as np
import pytest
from chainbuild import Tx, build, coinbase

from chaintrail.analysis.exposure import AddressTags, exposure
from chaintrail.analysis.trace import Tracer
from chaintrail.errors import NotFoundError

SUBJECT = 5


def _world():
    chain = build(
        [
            coinbase(7, 100_000),  # 7: sanctioned
            coinbase(9, 50_000),  # 9: scam
            Tx(ins=[(1, 0)], outs=[(8, 50_000)]),  # scam -> 8 (untagged)
            Tx(ins=[(0, 0)], outs=[(SUBJECT, 100_000)]),  # sanctioned pays the subject
            Tx(ins=[(2, 0)], outs=[(SUBJECT, 50_000)]),  # 8 pays the subject: scam, 2 hops
            Tx(ins=[(3, 0), (4, 0)], outs=[(10, 120_000), (SUBJECT, 30_000)]),  # to exchange 10
        ]
    )
    code = np.zeros(chain.n_addresses, np.int32)
    code[[7, 9, 10]] = [1, 2, 3]
    return Tracer(chain, coinjoin_tx=np.zeros(chain.n_txs, bool)), AddressTags(
        code, ["", "sanction", "scam", "exchange"]
    )


def test_received_exposure_splits_direct_and_indirect():
    tracer, tags = _world()
    rec = exposure(tracer, tags, np.array([SUBJECT]), hops=3)["received"]
    assert rec.total == 150_000  # its own change (30k) is not counted as received
    by = {c.category: c for c in rec.by_category}
    assert (by["sanction"].direct, by["sanction"].indirect) == (100_000, 0)
    assert (by["scam"].direct, by["scam"].indirect) == (0, 50_000)
    assert by["sanction"].percent == pytest.approx(66.6667, abs=1e-3)


def test_hops_limit_indirect_exposure():
    tracer, tags = _world()
    rec = exposure(tracer, tags, np.array([SUBJECT]), hops=1)["received"]
    assert [c.category for c in rec.by_category] == ["sanction"]
    assert rec.untagged == 50_000  # the scam money is 2 hops away


def test_sent_exposure_follows_spent_coins():
    tracer, tags = _world()
    sent = exposure(tracer, tags, np.array([SUBJECT]), hops=3)["sent"]
    assert sent.total == 150_000
    (ex,) = sent.by_category
    assert (ex.category, ex.direct, ex.percent) == ("exchange", 120_000, 80.0)
    assert sent.untagged == 30_000  # change back to itself, unspent


def test_unknown_subject_is_not_found():
    tracer, tags = _world()
    with pytest.raises(NotFoundError):
        exposure(tracer, tags, np.array([999]))
