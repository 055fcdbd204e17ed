"""The change-heuristic expression language and heuristic-set specs.

A change expression combines named heuristics (:data:`chaintrail.analysis.change.HEURISTICS`)
as sets of candidate outputs, BlockSci style, plus a *prefer* operator::

    pref   := expr ('>' expr)*              prefer, left to right, binds loosest
    expr   := term (('|' | '-') term)*      union / difference, left to right
    term   := factor ('&' factor)*          intersection binds tighter
    factor := NAME | NAME '(' DIGITS ')' | '(' pref ')'

``a > b`` judges each tx by ``a`` where ``a`` is decisive (exactly one candidate in that tx)
and by ``b`` elsewhere: a cascade from the strongest heuristic to weaker ones, where ``a|b``
would turn a tx both judge differently into an ambiguous one. ``power_of_ten(5)`` sets the
number of zero digits (default 6), ``few_outputs(20)`` the output limit (default 10).
Example: ``peel_chain|optimal_change-power_of_ten`` = (peel_chain ∪ optimal_change) \\
power_of_ten.

A heuristic set (``--heuristics``) is ``multi-input`` optionally followed by
``,change:<expr>``; :func:`parse_heuristic_set` validates it and returns the change expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from chaintrail.analysis.change import HEURISTIC_PARAMS, HEURISTICS, ChangeContext
from chaintrail.errors import UsageError

_TOKEN = re.compile(r"\s*(?:([a-z_]+)(?:\((\d+)\))?|([&|()\->]))")


@dataclass(frozen=True)
class Name:
    """A heuristic by name, with an optional integer parameter."""

    name: str
    param: int | None = None


@dataclass(frozen=True)
class BinOp:
    """``left op right`` with op one of ``&``, ``|``, ``-``, ``>``."""

    op: str
    left: Name | BinOp
    right: Name | BinOp


Expr = Name | BinOp


def _tokens(text: str) -> list[tuple[str, str | int | None]]:
    out: list[tuple[str, str | int | None]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise UsageError(
                f"change expression {text!r}: unexpected {text[pos:].strip()[:10]!r} at "
                f"character {pos}; expected a heuristic name, '&', '|', '-', '>' or parentheses"
            )
        if m.group(1):
            if m.group(1) not in HEURISTICS:
                raise UsageError(
                    f"change expression {text!r}: unknown heuristic {m.group(1)!r}; "
                    f"known: {', '.join(HEURISTICS)}"
                )
            out.append(("name", m.group(1)))
            if m.group(2) is not None:
                out.append(("param", int(m.group(2))))
        else:
            out.append(("op", m.group(3)))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def _peek(self) -> tuple[str, str | int | None] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _fail(self, what: str) -> UsageError:
        return UsageError(f"change expression {self.text!r}: {what}")

    def parse(self) -> Expr:
        if not self.toks:
            raise self._fail("empty; expected at least one heuristic name")
        node = self._pref()
        if self._peek() is not None:
            raise self._fail(f"unexpected {self._peek()[1]!r} after a complete expression")
        return node

    def _pref(self) -> Expr:
        node = self._expr()
        while (tok := self._peek()) is not None and tok[1] == ">":
            self.i += 1
            node = BinOp(">", node, self._expr())
        return node

    def _expr(self) -> Expr:
        node = self._term()
        while (tok := self._peek()) is not None and tok[1] in ("|", "-"):
            self.i += 1
            node = BinOp(str(tok[1]), node, self._term())
        return node

    def _term(self) -> Expr:
        node = self._factor()
        while (tok := self._peek()) is not None and tok[1] == "&":
            self.i += 1
            node = BinOp("&", node, self._factor())
        return node

    def _factor(self) -> Expr:
        tok = self._peek()
        if tok is None:
            raise self._fail("ends early; expected a heuristic name or '('")
        self.i += 1
        if tok == ("op", "("):
            node = self._pref()
            if self._peek() != ("op", ")"):
                raise self._fail("missing ')'")
            self.i += 1
            return node
        if tok[0] != "name":
            raise self._fail(f"unexpected {tok[1]!r}; expected a heuristic name or '('")
        nxt = self._peek()
        if nxt is not None and nxt[0] == "param":
            self.i += 1
            return Name(str(tok[1]), int(nxt[1]))  # type: ignore[arg-type]
        return Name(str(tok[1]))


def parse_change_expr(text: str) -> Expr:
    """Parse a change expression; raises UsageError naming the problem."""
    return _Parser(text).parse()


def evaluate(expr: Expr, ctx: ChangeContext) -> np.ndarray:
    """Candidate-change mask over all outputs for a parsed expression."""
    if isinstance(expr, Name):
        if expr.param is not None:
            attr = HEURISTIC_PARAMS.get(expr.name)
            if attr is None:
                raise UsageError(f"heuristic {expr.name!r} takes no parameter")
            saved = getattr(ctx, attr)
            setattr(ctx, attr, expr.param)
            try:
                return HEURISTICS[expr.name](ctx)
            finally:
                setattr(ctx, attr, saved)
        return HEURISTICS[expr.name](ctx)
    left = evaluate(expr.left, ctx)
    right = evaluate(expr.right, ctx)
    if expr.op == ">":
        per_tx = np.bincount(ctx.out_tx[left], minlength=ctx.tx_hi - ctx.tx_lo)
        return np.where((per_tx == 1)[ctx.out_tx], left, right)
    if expr.op == "&":
        return left & right
    if expr.op == "|":
        return left | right
    return left & ~right


def cascade_levels(expr: Expr) -> list[Expr]:
    """The levels of a top-level ``>`` cascade, strongest first (one level if there is none)."""
    if isinstance(expr, BinOp) and expr.op == ">":
        return [*cascade_levels(expr.left), *cascade_levels(expr.right)]
    return [expr]


def evaluate_levels(expr: Expr, ctx: ChangeContext) -> tuple[np.ndarray, np.ndarray]:
    """``(candidate mask, level)``: the same mask as :func:`evaluate`, and per window tx the
    index of the cascade level (:func:`cascade_levels`) that judged it (-1: none had exactly
    one candidate, so the last level's candidates stand)."""
    levels = cascade_levels(expr)
    n = ctx.tx_hi - ctx.tx_lo
    level = np.full(n, -1, np.int8)
    mask = np.zeros(ctx.out_hi - ctx.out_lo, dtype=bool)
    for k, sub in enumerate(levels):
        m = evaluate(sub, ctx)
        open_tx = level < 0
        if k == len(levels) - 1:
            mask |= m & open_tx[ctx.out_tx]
            unique = np.bincount(ctx.out_tx[m], minlength=n) == 1
            level[open_tx & unique] = k
            break
        unique = (np.bincount(ctx.out_tx[m], minlength=n) == 1) & open_tx
        mask |= m & unique[ctx.out_tx]
        level[unique] = k
    return mask, level


_PRECEDENCE = {">": 0, "|": 1, "-": 1, "&": 2}


def pretty_expr(expr: Expr) -> str:
    """An expression with only the parentheses its meaning needs (for people to read)."""
    if isinstance(expr, Name):
        return expr.name if expr.param is None else f"{expr.name}({expr.param})"
    prec = _PRECEDENCE[expr.op]

    def side(child: Expr, right: bool) -> str:
        text = pretty_expr(child)
        if isinstance(child, BinOp):
            cp = _PRECEDENCE[child.op]
            if cp < prec or (right and cp == prec and expr.op in "-|" and child.op != expr.op):
                return f"({text})"
            if right and cp == prec and expr.op == "-":
                return f"({text})"
        return text

    return f"{side(expr.left, False)}{expr.op}{side(expr.right, True)}"


def format_expr(expr: Expr) -> str:
    """Canonical text of an expression (fully parenthesised binary operations)."""
    if isinstance(expr, Name):
        return expr.name if expr.param is None else f"{expr.name}({expr.param})"
    return f"({format_expr(expr.left)}{expr.op}{format_expr(expr.right)})"


def parse_heuristic_set(spec: str) -> Expr | None:
    """Parse ``multi-input[,change:<expr>]``; returns the change expression or None."""
    parts = [p.strip() for p in spec.split(",", 1)]
    if parts[0] != "multi-input":
        raise UsageError(
            f"--heuristics {spec!r}: must start with 'multi-input' "
            "(e.g. 'multi-input' or 'multi-input,change:fresh_address&address_type')"
        )
    if len(parts) == 1:
        return None
    if not parts[1].startswith("change:"):
        raise UsageError(f"--heuristics {spec!r}: after 'multi-input,' expected 'change:<expr>'")
    return parse_change_expr(parts[1][len("change:") :])
