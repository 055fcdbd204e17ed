"""Page tokens: round trip, and refusal of foreign or garbled tokens with a one-line 4xx error."""

import pytest

from chaintrail.api.paging import decode_token, encode_token, page_window, scope_of
from chaintrail.errors import ValidationError


def test_pages_cover_a_listing_exactly_once():
    scope = scope_of("txs", "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    seen, token = [], None
    while True:
        start, stop, token = page_window(23, decode_token(token, scope), 10, scope)
        seen.extend(range(start, stop))
        if token is None:
            break
    assert seen == list(range(23))


def test_no_token_means_the_first_page():
    assert decode_token(None, "x") == 0
    assert decode_token("", "x") == 0


@pytest.mark.parametrize("bad", ["!!!", "abc", encode_token("other", 5), "MTox", "eDotMQ"])
def test_garbled_or_foreign_tokens_are_refused(bad):
    with pytest.raises(ValidationError, match="page"):
        decode_token(bad, scope_of("mine"))


def test_last_page_has_no_next_token():
    assert page_window(5, 0, 5, "s") == (0, 5, None)
