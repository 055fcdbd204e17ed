"""The shipped daily prices: coverage, lookup by block time, and nothing outside the range."""

from datetime import UTC, datetime

from chaintrail.api.rates import shipped_rates


def ts(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())


def test_btc_prices_cover_2013_to_2025_without_gaps():
    btc = shipped_rates("btc")
    assert btc.usd_at(ts("2013-04-29")) == 144.54  # first CoinMarketCap close
    assert btc.usd_at(ts("2025-07-24") + 86399) == 118255.0  # last exchange close
    assert btc.usd.shape[0] == 4470
    assert (btc.usd > 0).all()


def test_eth_starts_2015_and_keeps_sub_dollar_precision():
    eth = shipped_rates("eth")
    assert eth.usd_at(ts("2015-08-08")) == 0.753325
    assert eth.unit == 10**18


def test_before_first_price_there_is_no_rate_not_a_guess():
    btc = shipped_rates("btc")
    genesis_time = 1231006505
    assert btc.rates_at(genesis_time) == []
    assert btc.value(5_000_000_000, genesis_time) == {"value": 5_000_000_000, "fiat_values": []}
    assert btc.rates_at(ts("2030-01-01")) == []


def test_fiat_value_is_amount_times_that_days_close():
    btc = shipped_rates("btc")
    when = ts("2021-12-19") + 3600  # block 714,000 era
    usd = btc.usd_at(when)
    value = btc.value(150_000_000, when)
    assert value["value"] == 150_000_000 and isinstance(value["value"], int)
    assert value["fiat_values"] == [{"code": "usd", "value": round(1.5 * usd, 2)}]


def test_unknown_coin_has_an_empty_series():
    assert shipped_rates("doge").rates_at(ts("2021-01-01")) == []
