"""ActorPack parsing: real actors, inherited lastmod, and errors with file:line."""

from __future__ import annotations

import datetime as dt

import pytest

from chaintrail.errors import ValidationError
from chaintrail.intel.actorpack import parse_actorpack

from .conftest import ACTORS


def test_real_actors_with_inherited_lastmod() -> None:
    pack = parse_actorpack(ACTORS)
    assert pack.n_actors == 3
    rows = pack.rows
    i = rows["actor_id"].index("lazarusgroup")
    assert rows["label"][i] == "Lazarus Group"
    assert rows["categories"][i] == ["phishing", "ransomware", "sanction", "service_hack"]
    assert rows["lastmod"][i] == dt.date(2023, 2, 17)
    j = rows["actor_id"].index("internet_archive")
    assert rows["jurisdictions"][j] == ["US"] and rows["aliases"][j] == ["internetarchive"]


@pytest.mark.parametrize(
    ("actor", "where", "what"),
    [
        ("- id: a\n  uri: u\n  label: A\n  categories: [bank]\n", ":8, field 'categories'", "unknown concept"),
        ("- id: a\n  uri: u\n  categories: [exchange]\n", ":5, field 'label'", "mandatory"),
        ("- id: a\n  uri: u\n  label: A\n  categories: [exchange]\n  jurisdictions: [XX]\n", ":9, field 'jurisdictions'", "country"),
        ("- id: a\n  uri: u\n  label: A\n  categories: [exchange]\n  colour: red\n", ":9, field 'colour'", "not allowed"),
    ],
)  # fmt: skip
def test_bad_actor_packs(tmp_path, actor: str, where: str, what: str) -> None:
    p = tmp_path / "x.actorpack.yaml"
    p.write_text("title: t\ncreator: c\nlastmod: 2023-01-01\nactors:\n" + actor)
    with pytest.raises(ValidationError) as info:
        parse_actorpack(p)
    assert str(info.value).startswith(f"{p}{where}") and what in str(info.value)
