"""API keys: stored hashed, roles checked, revocation seen by a running index."""

import json

import pytest

from chaintrail.api.keys import KeyIndex, KeyStore, hash_key
from chaintrail.errors import NotFoundError, UsageError


def test_key_is_shown_once_and_only_its_hash_is_stored(tmp_path):
    key, rec = KeyStore(tmp_path).create("reader", "notebook")
    text = (tmp_path / "api_keys.json").read_text()
    assert key not in text
    assert hash_key(key) in text
    assert json.loads(text)["keys"][0]["role"] == "reader"
    assert (tmp_path / "api_keys.json").stat().st_mode & 0o077 == 0  # not world/group readable


def test_index_accepts_active_keys_and_forgets_revoked_ones(tmp_path):
    store = KeyStore(tmp_path)
    key, rec = store.create("analyst")
    index = KeyIndex(store, recheck_seconds=0)
    assert index.lookup(key).role == "analyst"
    assert index.lookup(key + "x") is None
    store.revoke(rec.id)
    assert index.lookup(key) is None
    assert store.load()[0].revoked is not None  # still listed, marked revoked


def test_unknown_role_and_unknown_id_are_user_errors(tmp_path):
    with pytest.raises(UsageError, match="reader, analyst"):
        KeyStore(tmp_path).create("admin")
    with pytest.raises(NotFoundError, match="nope"):
        KeyStore(tmp_path).revoke("nope")
    assert not (tmp_path / "api_keys.json").exists()
