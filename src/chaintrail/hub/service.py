"""Running one hub action: one transaction holding the action and its audit entry; a refused
action is audited too (``denied``, in a transaction of its own, since the action's rolled back).

Both interfaces (the CLI and the API) call hub functions through :func:`perform`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from chaintrail.errors import ConflictError, ForbiddenError, NotFoundError
from chaintrail.hub import audit
from chaintrail.hub.db import Hub
from chaintrail.hub.principal import Principal

P = ParamSpec("P")
T = TypeVar("T")


def perform(
    hub: Hub,
    who: Principal,
    action: Callable[Concatenate[Session, Principal, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run ``action(session, who, ...)`` in one transaction; audit a refusal before re-raising."""
    try:
        with hub.transaction() as s:
            return action(s, who, *args, **kwargs)
    except IntegrityError as exc:  # a concurrent writer created the same row first
        first = str(exc.orig).splitlines()[0] if exc.orig else "constraint"
        raise ConflictError(
            f"a concurrent change conflicts with this one ({first}): read again and retry"
        ) from exc
    except (ForbiddenError, NotFoundError) as exc:
        with hub.transaction() as s:
            audit.append(s, who, "denied", "request", getattr(action, "__name__", "?"),
                         detail={"error": str(exc)[:500], "via": who.via})  # fmt: skip
        raise
