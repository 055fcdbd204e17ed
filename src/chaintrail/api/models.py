"""Response and request bodies of the GraphSense-compatible API (``/api``), field for field.

Names, nesting and types follow ``graphsense-python`` 2.18 (see the spec
``graphsense-rest-compat.md``): counts and amounts are strict ints, amounts in base units
(satoshis), timestamps int unix seconds, ``fiat_values`` always present (possibly empty).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

from chaintrail.api.fields import bitcoin_address_field

EXAMPLE_TX = "a1075db55d416d3ca199f55b6084e2115b9345e16c5cf302fc80e9d5fbf5d48d"
EXAMPLE_ADDRESS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Rate(BaseModel):
    """One fiat rate or fiat value: currency code (lower case) and amount."""

    code: StrictStr
    value: float | StrictInt


class Values(BaseModel):
    """An amount in base units (satoshis) with its fiat values at the time it moved."""

    model_config = _examples({"value": 5000000000, "fiat_values": [{"code": "usd", "value": 7.16}]})
    value: StrictInt
    fiat_values: list[Rate]


class TxSummary(BaseModel):
    """Where a transaction sits: height, block time, hash."""

    height: StrictInt
    timestamp: StrictInt
    tx_hash: StrictStr


class LabeledItemRef(BaseModel):
    """An id with a human label (actors, categories, jurisdictions)."""

    id: StrictStr
    label: StrictStr


class Address(BaseModel):
    """An address with its totals, degrees and the cluster it belongs to."""

    model_config = _examples(
        {
            "currency": "btc",
            "address": EXAMPLE_ADDRESS,
            "entity": 0,
            "cluster": 0,
            "balance": {"value": 5000000000, "fiat_values": []},
            "total_received": {"value": 5000000000, "fiat_values": []},
            "total_spent": {"value": 0, "fiat_values": []},
            "first_tx": {"height": 0, "timestamp": 1231006505, "tx_hash": "4a5e1e4b..."},
            "last_tx": {"height": 0, "timestamp": 1231006505, "tx_hash": "4a5e1e4b..."},
            "in_degree": 0,
            "out_degree": 0,
            "no_incoming_txs": 1,
            "no_outgoing_txs": 0,
        }
    )
    currency: StrictStr
    address: StrictStr
    entity: StrictInt
    cluster: StrictInt
    balance: Values
    total_received: Values
    total_spent: Values
    first_tx: TxSummary | None = None
    last_tx: TxSummary | None = None
    in_degree: StrictInt
    out_degree: StrictInt
    no_incoming_txs: StrictInt
    no_outgoing_txs: StrictInt
    actors: list[LabeledItemRef] | None = None
    is_possible_service: StrictBool | None = None


class AddressTag(BaseModel):
    """One attribution tag on an address (every field optional in GraphSense)."""

    label: StrictStr | None = None
    tag_type: StrictStr | None = None
    tagpack_title: StrictStr | None = None
    tagpack_is_public: StrictBool | None = None
    tagpack_creator: StrictStr | None = None
    is_cluster_definer: StrictBool | None = None
    currency: StrictStr | None = None
    category: StrictStr | None = None
    concepts: list[StrictStr] | None = None
    actor: StrictStr | None = None
    abuse: StrictStr | None = None
    tagpack_uri: StrictStr | None = None
    source: StrictStr | None = None
    lastmod: StrictInt | None = None
    confidence: StrictStr | None = None
    confidence_level: StrictInt | None = None
    inherited_from: StrictStr | None = None
    address: StrictStr | None = None
    entity: StrictInt | None = None
    cluster: StrictInt | None = Field(...)


class Cluster(BaseModel):
    """A cluster (GraphSense "entity"): addresses controlled by one party, with totals."""

    currency: StrictStr
    entity: StrictInt
    cluster: StrictInt
    root_address: StrictStr
    balance: Values
    total_received: Values
    total_spent: Values
    first_tx: TxSummary
    last_tx: TxSummary
    in_degree: StrictInt
    out_degree: StrictInt
    no_addresses: StrictInt
    no_incoming_txs: StrictInt
    no_outgoing_txs: StrictInt
    no_address_tags: StrictInt
    best_address_tag: AddressTag | None = None
    actors: list[LabeledItemRef] | None = None


class AddressTxUtxo(BaseModel):
    """A transaction seen from one address or cluster; ``value`` < 0 means outgoing."""

    tx_type: Literal["utxo"] = "utxo"
    tx_hash: StrictStr
    currency: StrictStr
    coinbase: StrictBool
    height: StrictInt
    timestamp: StrictInt
    value: Values


class AddressTxs(BaseModel):
    """A page of an address's (or cluster's) transactions."""

    address_txs: list[AddressTxUtxo]
    next_page: StrictStr | None = None


class NeighborAddress(BaseModel):
    """An address one transaction away, with the value and tx count on the edge."""

    value: Values
    no_txs: StrictInt
    address: Address
    labels: list[StrictStr] | None = None


class NeighborAddresses(BaseModel):
    """A page of address neighbors."""

    neighbors: list[NeighborAddress]
    next_page: StrictStr | None = None


class NeighborCluster(BaseModel):
    """A cluster one transaction away (``cluster`` and deprecated ``entity`` are the same)."""

    value: Values
    no_txs: StrictInt
    labels: list[StrictStr] | None = None
    cluster: Cluster
    entity: Cluster


class NeighborClusters(BaseModel):
    """A page of cluster neighbors."""

    neighbors: list[NeighborCluster]
    next_page: StrictStr | None = None


class LinkUtxo(BaseModel):
    """A transaction that moves value from one address/cluster to another."""

    tx_type: Literal["utxo"] = "utxo"
    tx_hash: StrictStr
    currency: StrictStr
    height: StrictInt
    timestamp: StrictInt
    input_value: Values
    output_value: Values


class Links(BaseModel):
    """A page of links between two addresses or clusters."""

    links: list[LinkUtxo]
    next_page: StrictStr | None = None


class AddressTags(BaseModel):
    """A page of tags."""

    address_tags: list[AddressTag]
    next_page: StrictStr | None = None


class ClusterAddresses(BaseModel):
    """A page of a cluster's addresses."""

    addresses: list[Address]
    next_page: StrictStr | None = None


class LabelSummary(BaseModel):
    """All tags of one label on an address, summarised."""

    label: StrictStr
    count: StrictInt
    confidence: float | StrictInt
    relevance: float | StrictInt
    creators: list[StrictStr]
    sources: list[StrictStr]
    concepts: list[StrictStr]
    lastmod: StrictInt
    inherited_from: StrictStr | None = None


class TagCloudEntry(BaseModel):
    """How often a concept occurs among the tags, raw and confidence-weighted."""

    cnt: StrictInt
    weighted: float | StrictInt


class TagSummary(BaseModel):
    """What the tags on an address say, in one object."""

    broad_category: StrictStr
    tag_count: StrictInt
    label_summary: dict[str, LabelSummary]
    concept_tag_cloud: dict[str, TagCloudEntry]
    best_actor: StrictStr | None = None
    best_label: StrictStr | None = None


class TxValue(BaseModel):
    """One input or output: its addresses (a list, possibly empty) and value."""

    address: list[StrictStr]
    value: Values
    index: StrictInt | None = None


class TxUtxo(BaseModel):
    """A UTXO transaction; ``inputs``/``outputs`` only when asked with ``include_io``."""

    tx_type: Literal["utxo"] = "utxo"
    currency: StrictStr
    tx_hash: StrictStr
    coinbase: StrictBool
    height: StrictInt
    no_inputs: StrictInt
    no_outputs: StrictInt
    timestamp: StrictInt
    total_input: Values
    total_output: Values
    inputs: list[TxValue] | None = None
    outputs: list[TxValue] | None = None


class TxRef(BaseModel):
    """A spend link: output ``output_index`` of one tx is input ``input_index`` of another."""

    input_index: StrictInt
    output_index: StrictInt
    tx_hash: StrictStr


class Block(BaseModel):
    """A block header summary."""

    block_hash: StrictStr
    currency: StrictStr
    height: StrictInt
    no_txs: StrictInt
    timestamp: StrictInt


class BlockAtDate(BaseModel):
    """The last block at or before a date and the first block after it (null at the ends)."""

    before_block: StrictInt | None = None
    before_timestamp: StrictInt | None = None
    after_block: StrictInt | None = None
    after_timestamp: StrictInt | None = None


class Rates(BaseModel):
    """Fiat exchange rates at a block height (``rates`` empty outside the shipped price range)."""

    model_config = _examples({"height": 702861, "rates": [{"code": "usd", "value": 47053.0}]})
    height: StrictInt
    rates: list[Rate]


class CurrencyStats(BaseModel):
    """Counts for one served chain."""

    name: StrictStr
    no_blocks: StrictInt
    no_address_relations: StrictInt
    no_addresses: StrictInt
    no_entities: StrictInt
    no_txs: StrictInt
    no_labels: StrictInt
    no_tagged_addresses: StrictInt
    timestamp: StrictInt
    network_type: StrictStr


class Stats(BaseModel):
    """What this server holds."""

    currencies: list[CurrencyStats]
    version: StrictStr
    request_timestamp: StrictStr


class SearchResultByCurrency(BaseModel):
    """Addresses and transactions of one chain that start with the search text."""

    currency: StrictStr
    addresses: list[StrictStr]
    txs: list[StrictStr]


class SearchResult(BaseModel):
    """Everything that matches a search prefix."""

    currencies: list[SearchResultByCurrency]
    labels: list[StrictStr]
    actors: list[LabeledItemRef] | None = None


class SearchResultLevel(BaseModel):
    """A path step of a cluster-neighbor search: the neighbor, matches there, deeper paths."""

    neighbor: NeighborCluster
    matching_addresses: list[Address]
    paths: list[SearchResultLevel]


class ActorContext(BaseModel):
    """Links and references about an actor."""

    uris: list[StrictStr]
    images: list[StrictStr]
    refs: list[StrictStr]
    coingecko_ids: list[StrictStr]
    defilama_ids: list[StrictStr]
    twitter_handle: StrictStr | None = None
    github_organisation: StrictStr | None = None
    legal_name: StrictStr | None = None


class Actor(BaseModel):
    """A real-world actor (exchange, mixer, sanctioned party ...) from an ActorPack."""

    id: StrictStr
    label: StrictStr
    uri: StrictStr
    categories: list[LabeledItemRef]
    jurisdictions: list[LabeledItemRef]
    nr_tags: StrictInt | None = None
    context: ActorContext | None = None


class Taxonomy(BaseModel):
    """A taxonomy of concepts."""

    taxonomy: StrictStr
    uri: StrictStr


class Concept(BaseModel):
    """One concept (category) of a taxonomy."""

    id: StrictStr
    label: StrictStr
    taxonomy: StrictStr
    uri: StrictStr | None = None
    description: StrictStr | None = None


class UserReportedTag(BaseModel):
    """A tag an analyst reports (stored as an unverified tag of the reporting key)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"address": EXAMPLE_ADDRESS, "network": "btc", "label": "genesis"}]
        },
    )
    address: StrictStr = Field(min_length=1, max_length=200)
    network: StrictStr = Field(min_length=1, max_length=20)
    label: StrictStr = Field(min_length=1, max_length=500)
    actor: StrictStr | None = Field(default=None, max_length=200)
    description: StrictStr | None = Field(default=None, max_length=5000)

    @model_validator(mode="after")
    def _bitcoin_address(self) -> UserReportedTag:
        if self.network.strip().lower() == "btc":
            try:
                bitcoin_address_field(self.address)
            except ValueError as exc:
                raise ValueError(f"address: {exc}") from exc
        return self


class UserTagReportResponse(BaseModel):
    """The id under which a reported tag was stored."""

    id: StrictStr


class ErrorBody(BaseModel):
    """Every error: one line saying what was wrong and what was expected."""

    model_config = _examples({"detail": "address 'xyz': expected a Base58Check or bech32 address"})
    detail: StrictStr | list[dict]
