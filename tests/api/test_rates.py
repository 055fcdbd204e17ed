"""The shipped daily prices: coverage, lookup by block time, and nothing outside the range."""

from datetime import UTC, datetime

from chaintrail.rates import shipped_rates


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
    eur = btc.eur_at(when)
    assert value["fiat_values"] == [
        {"code": "eur", "value": round(1.5 * eur, 2)},
        {"code": "usd", "value": round(1.5 * usd, 2)},
    ]


def _ecb_fixing(day: str) -> float:
    from importlib import resources

    text = (resources.files("chaintrail") / "data" / "rates" / "usd_per_eur.csv").read_text()
    rows = dict(line.split(",") for line in text.splitlines()[1:])
    return float(rows[day])


def test_eur_is_the_usd_close_over_the_ecb_fixing_of_that_day():
    btc = shipped_rates("btc")
    friday = ts("2021-03-05") + 7200
    assert btc.eur_at(friday) == btc.usd_at(friday) / _ecb_fixing("2021-03-05")
    assert btc.rate_dates(friday) == {"usd": "2021-03-05", "eur": "2021-03-05"}


def test_weekend_eur_uses_the_last_ecb_fixing_and_says_which():
    btc = shipped_rates("btc")
    saturday = ts("2021-03-06") + 7200
    assert btc.eur_at(saturday) == btc.usd_at(saturday) / _ecb_fixing("2021-03-05")
    assert btc.rate_dates(saturday) == {"usd": "2021-03-06", "eur": "2021-03-05"}
    assert btc.rate_dates(1231006505) == {}  # 2009: no price at all


def test_unknown_coin_has_an_empty_series():
    assert shipped_rates("doge").rates_at(ts("2021-01-01")) == []
