"""API keys: stored hashed, roles checked, revocation seen by a running index."""

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from chaintrail.api.keys import KeyIndex, KeyStore, hash_key
from chaintrail.errors import NotFoundError, StoreError, UsageError


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


def _create(store_dir: str) -> str:
    return KeyStore(Path(store_dir)).create("reader", "parallel")[1].id


def _revoke(store_dir: str, key_id: str) -> str:
    return KeyStore(Path(store_dir)).revoke(key_id).id


def test_concurrent_creations_and_revocations_are_never_lost(tmp_path):
    """Issue 10 E: 40 processes creating keys at once kept 8; a creation beside a revocation
    lost the revocation in 11 of 30 trials (read-modify-write without a lock)."""
    with ProcessPoolExecutor(4, mp_context=get_context("spawn")) as pool:
        made = list(pool.map(_create, [str(tmp_path)] * 40))
        assert sorted(r.id for r in KeyStore(tmp_path).load()) == sorted(made)
        lost = 0
        for _ in range(30):
            victim = KeyStore(tmp_path).create("reader")[1].id
            revoked = pool.submit(_revoke, str(tmp_path), victim)
            created = pool.submit(_create, str(tmp_path))
            revoked.result(), created.result()
            records = {r.id: r for r in KeyStore(tmp_path).load()}
            lost += records[victim].revoked is None or created.result() not in records
    assert lost == 0


def test_a_corrupt_key_file_is_a_store_error_naming_it(tmp_path):
    (tmp_path / "api_keys.json").write_text('{"keys": [{"id": "x"')
    with pytest.raises(StoreError, match="api_keys.json"):
        KeyIndex(KeyStore(tmp_path), recheck_seconds=0).lookup("ct_x_y")
