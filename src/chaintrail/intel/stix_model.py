"""The STIX 2.1 vocabulary chaintrail speaks, shared by export, import and trace export.

The community ``cryptocurrency-wallet`` / ``cryptocurrency-transaction`` SCOs (declared as our own
``new-sco`` extension definitions), chaintrail's property extensions (tag, entity, link, trace),
the OASIS TLP 2.0 marking-definition ids (and the TLP 1.0 ids some producers still use), and
STIX timestamps.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import stix2
from stix2 import CustomObservable
from stix2 import properties as P

TLP_MARKINGS = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_OF_MARKING = {v: k for k, v in TLP_MARKINGS.items()}
# TLP 1.0 ids some producers still use
TLP_OF_MARKING.update({
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "CLEAR",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "GREEN",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "AMBER",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "RED",
})  # fmt: skip

CHAINTRAIL_IDENTITY = "identity--1d882f66-9c4d-4051-8d5e-5059bb389cf2"
WALLET_EXT = "extension-definition--5edf3ee9-abfc-4b40-958e-679312f9db46"
TX_EXT = "extension-definition--9c1ad015-7575-4cef-83a4-6ca3b5c26005"
TAG_EXT = "extension-definition--055c8ed5-01b6-41c2-86f0-0390f6b5d0d7"
ENTITY_EXT = "extension-definition--3ca73248-265c-44f2-8b09-58fd956e811f"
LINK_EXT = "extension-definition--d8078133-c783-4a17-9a4d-63af2aa65e8c"
TRACE_EXT = "extension-definition--7b0e6f9c-3f0e-4a51-8d7e-2f4c1b9a6d25"
NS = uuid.UUID("1d882f66-9c4d-4051-8d5e-5059bb389cf2")
EPOCH = "2024-01-01T00:00:00.000Z"
REL_SAFE = re.compile(r"[^a-z0-9-]+")


@CustomObservable(
    "cryptocurrency-wallet",
    [("value", P.StringProperty(required=True)),
     ("holder_ref", P.ReferenceProperty(valid_types=["identity"], spec_version="2.1"))],
    extension_name=WALLET_EXT,
    id_contrib_props=["value"],
)  # fmt: skip
class _CryptocurrencyWallet:
    """The community ``cryptocurrency-wallet`` SCO: ``value`` is the address."""


#: ``CryptocurrencyWallet(value=ADDRESS, ...)`` (stix2 builds the class; typed loosely for mypy)
CryptocurrencyWallet: Any = _CryptocurrencyWallet


@CustomObservable(
    "cryptocurrency-transaction",
    [("value", P.StringProperty(required=True)), ("symbol", P.StringProperty()),
     ("execution_time", P.TimestampProperty()), ("fee", P.IntegerProperty()),
     ("input", P.ListProperty(P.DictionaryProperty(spec_version="2.1"))),
     ("output", P.ListProperty(P.DictionaryProperty(spec_version="2.1")))],
    extension_name=TX_EXT,
    id_contrib_props=["value"],
)  # fmt: skip
class _CryptocurrencyTransaction:
    """The community ``cryptocurrency-transaction`` SCO: ``value`` is the tx hash."""


#: ``CryptocurrencyTransaction(value=TXID, ...)`` (stix2 builds the class; typed loosely for mypy)
CryptocurrencyTransaction: Any = _CryptocurrencyTransaction


def extension_definitions() -> list[Any]:
    """The chaintrail identity and every extension definition our objects use (put in each bundle)."""
    ident = stix2.Identity(id=CHAINTRAIL_IDENTITY, name="chaintrail", identity_class="system",
                           created=EPOCH, modified=EPOCH)  # fmt: skip
    defs = [ident]
    for ext_id, name, kind, desc in (
        (
            WALLET_EXT,
            "cryptocurrency-wallet",
            "new-sco",
            "A cryptocurrency address (value) and its holder.",
        ),
        (
            TX_EXT,
            "cryptocurrency-transaction",
            "new-sco",
            "A cryptocurrency transaction with inputs and outputs.",
        ),
        (
            TAG_EXT,
            "chaintrail-tag",
            "property-extension",
            "The full chaintrail attribution tag on a note.",
        ),
        (
            ENTITY_EXT,
            "chaintrail-entity",
            "property-extension",
            "The chaintrail entity record behind an object.",
        ),
        (
            LINK_EXT,
            "chaintrail-link",
            "property-extension",
            "Evidence, time and confidence of a chaintrail link.",
        ),
        (
            TRACE_EXT,
            "chaintrail-trace",
            "property-extension",
            "What a chaintrail trace found: traced satoshis per wallet, transfer and trace.",
        ),
    ):
        defs.append(stix2.ExtensionDefinition(
            id=ext_id, created_by_ref=CHAINTRAIL_IDENTITY, created=EPOCH, modified=EPOCH, name=name,
            description=desc, schema="https://github.com/chaintrail/chaintrail/blob/main/docs/INTEL.md",
            version="1.0.0", extension_types=[kind],
        ))  # fmt: skip
    return defs


def stix_time(value: str | None) -> str | None:
    """An ISO date/time (naive = UTC) as a STIX timestamp with milliseconds, or None."""
    if not value:
        return None
    v = dt.datetime.fromisoformat(str(value))
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.UTC)
    return v.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def tlp_marking(tlp: str | None) -> list[str] | None:
    """``object_marking_refs`` for a TLP 2.0 level (None when unmarked)."""
    return [TLP_MARKINGS[tlp]] if tlp in TLP_MARKINGS else None


def tlp_of(obj: dict[str, Any]) -> str | None:
    """The TLP level of a STIX object's markings (TLP 2.0 or 1.0 ids), or None."""
    refs = obj.get("object_marking_refs")
    if not isinstance(refs, list):
        return None
    return next((TLP_OF_MARKING[m] for m in refs if isinstance(m, str) and m in TLP_OF_MARKING), None)
