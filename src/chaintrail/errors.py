"""The one error tree of chaintrail.

Every error a user can cause or meet is one of these; foreign errors (duckdb, httpx,
yaml, sqlalchemy) are translated at the boundary with ``raise ... from exc``::

    ChaintrailError                 base; str(err) is one line a user can act on
    ├── InputError                  bad input data: file, field/offset, what was expected
    │   ├── DecodeError             bytes that are not what the format says (blk, block, tx)
    │   ├── ValidationError         well-formed but wrong (merkle root, checksum, pack field)
    │   └── AddressError            a malformed address string (bad checksum, bad charset)
    ├── NotFoundError               an unknown txid, address, block, cluster, tag ...
    ├── ForbiddenError              the caller may not do this (role, organisation, TLP marking)
    ├── ConflictError               a duplicate name, or an object changed since it was read
    ├── StoreError                  the store is missing, locked, or inconsistent
    ├── RemoteError                 an RPC node or remote service refused or failed
    └── UsageError                  a command was called with options that do not fit
        └── BudgetError             work too big for its budget, with no useful partial answer

The CLI prints ``str(err)`` in one red line and exits 1 (2 for ``UsageError``); the API
maps NotFoundError to 404, InputError/UsageError to 400, ForbiddenError to 403, ConflictError
to 409 and the rest to 5xx-free codes.
"""

from __future__ import annotations


class ChaintrailError(Exception):
    """Base of every chaintrail error; its message is a single actionable line."""

    exit_code = 1


class InputError(ChaintrailError):
    """Bad input: names the source (file, URL or value), where in it, and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        offset: int | None = None,
        field: str | None = None,
    ) -> None:
        self.source = source
        self.offset = offset
        self.field = field
        where = []
        if source is not None:
            where.append(str(source))
        if offset is not None:
            where.append(f"byte offset {offset}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)


class DecodeError(InputError):
    """Bytes that do not decode as the format they claim to be."""


class ValidationError(InputError):
    """Input that decodes but breaks a rule (merkle root, checksum, schema field)."""


class AddressError(InputError):
    """A malformed address string: unknown prefix, bad charset, bad checksum or length."""


class NotFoundError(ChaintrailError):
    """A thing asked for by id (txid, address, block, cluster, tag) is not in the store."""


class ForbiddenError(ChaintrailError):
    """The caller is known but may not do this: its role, organisation or a TLP marking forbids it."""


class ConflictError(ChaintrailError):
    """A duplicate (an organisation, user, group name ...) or an object changed since it was read."""


class StoreError(ChaintrailError):
    """The store is missing, locked by another writer, or inconsistent."""


class RemoteError(ChaintrailError):
    """A remote service (Bitcoin Core RPC node, ...) refused or answered with an error."""


class UsageError(ChaintrailError):
    """Options that do not fit together or a value outside its allowed range."""

    exit_code = 2


class BudgetError(UsageError):
    """Work that would not fit its budget (time, size) and cannot stop halfway usefully, such
    as a sum over a cluster's members; work that can (a trace, a listing) is cut instead."""


__all__ = [
    "AddressError",
    "BudgetError",
    "ChaintrailError",
    "ConflictError",
    "DecodeError",
    "ForbiddenError",
    "InputError",
    "NotFoundError",
    "RemoteError",
    "StoreError",
    "UsageError",
    "ValidationError",
]
