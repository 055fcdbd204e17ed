"""EIP-55: checksummed addresses are verified, errors name the address and the expected form."""

from __future__ import annotations

import pytest

from chaintrail.chains.ethereum.address import address_column, checksum_address, parse_address
from chaintrail.chains.ethereum.hexcodec import HexColumnError
from chaintrail.errors import AddressError

# the test vectors of EIP-55 itself
EIP55 = ["0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
         "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
         "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
         "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26"]  # fmt: skip


def flip_one_letter(text: str) -> str:
    """The address with the case of its last letter swapped (a one-character typo)."""
    i = max(k for k, c in enumerate(text) if c.isalpha() and k > 1)
    return text[:i] + text[i].swapcase() + text[i + 1 :]


@pytest.mark.parametrize("text", EIP55)
def test_eip55_vectors_parse_and_encode(text: str) -> None:
    raw = parse_address(text)
    assert len(raw) == 20
    assert checksum_address(raw).lower() == text.lower()
    if text != text.lower() and text[2:] != text[2:].upper():
        assert checksum_address(raw) == text


def test_one_case_carries_no_checksum_and_is_accepted() -> None:
    low = EIP55[0].lower()
    assert parse_address(low) == parse_address("0x" + low[2:].upper()) == parse_address(EIP55[0])


def test_a_flipped_case_fails_naming_the_address_and_the_checksummed_form() -> None:
    bad = flip_one_letter(EIP55[0])
    with pytest.raises(AddressError) as err:
        parse_address(bad, source="watchlist.csv line 3")
    msg = str(err.value)
    assert msg.startswith("watchlist.csv line 3: ") and bad in msg and EIP55[0] in msg
    assert "\n" not in msg


@pytest.mark.parametrize(("text", "says"), [
    ("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "lacks the 0x prefix"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "38 hex digits"),
    ("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg", "non-hex character 'g'"),
    ("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "not an Ethereum address"),
])  # fmt: skip
def test_malformed_addresses_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(AddressError, match=says):
        parse_address(text)


def test_a_column_with_one_bad_checksum_names_its_row() -> None:
    bad = flip_one_letter(EIP55[1])
    with pytest.raises(HexColumnError) as err:
        address_column([EIP55[0], EIP55[6], bad])
    assert err.value.row == 2 and "EIP-55" in str(err.value)
