"""The watch-term query language: text -> syntax tree, with errors that name the position.

    query   := any
    any     := all ( "OR" all )*
    all     := not ( ["AND"] not )*          implicit AND between neighbours
    not     := "NOT" not | near
    near    := primary ( NEAR primary )*
    NEAR    := "NEAR/n"                       within n words, either order
             | "ONEAR/n"                      within n words, left before right
             | "NEAR/s" | "/s"                in one sentence
             | "NEAR/p" | "/p"                in one paragraph
    primary := "(" any ")" | FIELD ":" primary | "@" alias
             | ["="] '"' phrase '"' ["~" n] | ["="] word["*"]

Operators are upper case; `and`, `or`, `not` in lower case are words. `=`
makes a word or phrase case-sensitive (`=UNICORN` is the acronym, not the
animal); a trailing `*` matches any word starting so (`earth*`); `title:` looks
only at the headline; `"a b"~2` lets up to 2 words in between, order kept;
`@name` stands for a named query of the config's `[aliases]` table
(`resolve_aliases`). See docs/queries.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from watcher.errors import AliasError, QueryError
from watcher.match.words import forms, split

FIELDS = ("title", "text")
MAX_QUERY_CHARS = 4000
MAX_DEPTH = 32
MIN_PREFIX_CHARS = 3  # "ab*" would match much of the language
# NEAR compares each match with the matches within n words of it: a cap on n keeps
# matching linear in the text (NEAR/100000 on 88 kB took 59 s) and is wider than a
# sentence-level or paragraph-level proximity needs.
MAX_NEAR = 100
# Aliases are shared, not copied, in a query's tree, but evaluating it visits each
# use: a chain of aliases each naming the next twice would double the work per link.
MAX_EXPANDED_LEAVES = 2000


@dataclass(frozen=True)
class Leaf:
    """A word or phrase: folded words to find in sequence, exact forms when case-sensitive."""

    words: tuple[str, ...]
    exact: tuple[str, ...] | None  # set for =word / ="phrase"
    prefix: bool  # the last word is a prefix (word*)
    source: str  # as written in the query, for explanations
    slop: int = 0  # "a b"~n: up to n words may stand between the phrase's words, order kept


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


@dataclass(frozen=True)
class Near:
    """Two places within `distance` words (left first if `ordered`), or in one sentence or
    paragraph (`scope` "s" or "p", distance unused)."""

    left: Node
    right: Node
    distance: int
    ordered: bool = False
    scope: str = ""

    @property
    def operator(self) -> str:
        """The operator as a query writes it, for explanations."""
        if self.scope:
            return f"/{self.scope}"
        return f"{'O' if self.ordered else ''}NEAR/{self.distance}"


@dataclass(frozen=True)
class Field:
    name: str  # "title" or "text"
    part: Node


Node = Leaf | AnyOf | AllOf | Not | Near | Field


@dataclass(frozen=True)
class _Token:
    kind: str  # ( ) OR AND NOT NEAR FIELD PHRASE WORD ALIAS END
    text: str
    at: int  # 0-based character position in the query
    case: bool = False
    distance: int = 0
    ordered: bool = False  # ONEAR
    scope: str = ""  # NEAR/s, /s: "s"; NEAR/p, /p: "p"
    slop: int = 0  # "phrase"~n


_SCAN = re.compile(
    r"""\s*(?:
        (?P<paren>[()])
      | (?P<case>=)?(?:"(?P<phrase>[^"]*)(?P<end>")? | “(?P<curly>[^”]*)(?P<curly_end>”)?)
        (?:~(?P<slop>\d+))?
      | (?P<near>(?P<ordered>O)?NEAR(?:/(?P<distance>\d*|[sp](?![A-Za-z0-9])))?)(?=[\s()"“@]|$)
      | (?P<scope>/[sp])(?=[\s()"“@]|$)
      | (?P<alias>@[A-Za-z0-9_]*)
      | (?P<op>AND|OR|NOT)(?=[\s()"“]|$)
      | (?P<field>[A-Za-z]+):(?=[^\s])
      | (?P<word>=?[^\s()"“”]+)
    )""",
    re.VERBOSE,
)


def _scan(query: str) -> list[_Token]:
    tokens = []
    position = 0
    while True:
        found = _SCAN.match(query, position)
        if found is None or found.end() == position:
            if query[position:].strip():
                raise QueryError(f"at {position + 1}: unexpected {query[position:].strip()[0]!r}")
            break
        at = found.start() + len(found.group()) - len(found.group().lstrip())
        position = found.end()
        if found["paren"]:
            tokens.append(_Token(found["paren"], found["paren"], at))
        elif found["phrase"] is not None or found["curly"] is not None:
            if found["end"] is None and found["curly_end"] is None:
                raise QueryError(f"at {at + 1}: unterminated quote")
            text = found["phrase"] if found["phrase"] is not None else found["curly"]
            slop = int(found["slop"] or 0)
            if slop > MAX_NEAR:
                raise QueryError(f"at {at + 1}: a phrase's ~n goes up to ~{MAX_NEAR}")
            tokens.append(_Token("PHRASE", text, at, case=bool(found["case"]), slop=slop))
        elif found["near"]:
            tokens.append(_near_token(found["near"], found["distance"], at))
        elif found["scope"]:
            tokens.append(_Token("NEAR", found["scope"], at, scope=found["scope"][1]))
        elif found["alias"]:
            if len(found["alias"]) == 1:
                raise QueryError(f"at {at + 1}: @ needs an alias name, like @india_japan")
            tokens.append(_Token("ALIAS", found["alias"][1:], at))
        elif found["op"]:
            tokens.append(_Token(found["op"], found["op"], at))
        elif found["field"]:
            name = found["field"]
            if name not in FIELDS:
                raise QueryError(
                    f"at {at + 1}: unknown field {name!r} (fields: {', '.join(FIELDS)})"
                )
            tokens.append(_Token("FIELD", name, at))
        else:
            word = found["word"]
            case = word.startswith("=")
            tokens.append(_Token("WORD", word[1:] if case else word, at, case=case))
    tokens.append(_Token("END", "", len(query)))
    return tokens


def _near_token(text: str, distance: str | None, at: int) -> _Token:
    """The token of NEAR/n, ONEAR/n, NEAR/s or NEAR/p, checked."""
    operator = "ONEAR" if text.startswith("O") else "NEAR"
    if distance in ("s", "p"):
        if operator == "ONEAR":
            raise QueryError(f"at {at + 1}: ONEAR needs a distance in words, like ONEAR/5")
        return _Token("NEAR", text, at, scope=distance)
    if not distance:
        raise QueryError(f"at {at + 1}: {operator} needs a distance in words, like {operator}/5")
    if int(distance) > MAX_NEAR:
        raise QueryError(f"at {at + 1}: {operator}/n goes up to {operator}/{MAX_NEAR}")
    return _Token("NEAR", text, at, distance=int(distance), ordered=operator == "ONEAR")


class _Parser:
    def __init__(self, query: str, aliases: Mapping[str, Node]) -> None:
        self.tokens = _scan(query)
        self.aliases = aliases
        self.index = 0
        self.depth = 0

    @property
    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def fail(self, expected: str) -> QueryError:
        token = self.peek
        found = "the end of the query" if token.kind == "END" else repr(token.text)
        return QueryError(f"at {token.at + 1}: expected {expected}, found {found}")

    def any(self) -> Node:
        parts = [self.all()]
        while self.peek.kind == "OR":
            self.take()
            parts.append(self.all())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def all(self) -> Node:
        parts = [self.not_()]
        while self.peek.kind in ("AND", "NOT", "(", "FIELD", "PHRASE", "WORD"):
            if self.peek.kind == "AND":
                self.take()
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def not_(self) -> Node:
        if self.peek.kind == "NOT":
            self.take()
            return Not(self.not_())
        return self.near()

    def near(self) -> Node:
        left = self.primary()
        while self.peek.kind == "NEAR":
            token = self.take()
            right = self.primary()
            if not (_spans(left) and _spans(right)):
                raise QueryError(
                    f"at {token.at + 1}: {token.text} needs words, phrases or OR-groups"
                    " of them on both sides"
                )
            left = Near(left, right, token.distance, token.ordered, token.scope)
        return left

    def primary(self) -> Node:
        token = self.peek
        if token.kind == "(":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise QueryError(f"at {token.at + 1}: more than {MAX_DEPTH} nested parentheses")
            node = self.any()
            if self.peek.kind != ")":
                raise self.fail("')'")
            self.take()
            self.depth -= 1
            return node
        if token.kind == "FIELD":
            self.take()
            return Field(token.text, self.primary())
        if token.kind in ("PHRASE", "WORD"):
            self.take()
            return _leaf(token)
        if token.kind == "ALIAS":
            self.take()
            aliased = self.aliases.get(token.text)
            if aliased is None:
                known = ", ".join(f"@{name}" for name in self.aliases) or "none defined"
                raise QueryError(
                    f"at {token.at + 1}: unknown alias @{token.text} (aliases: {known})"
                )
            return aliased
        raise self.fail("a word, a \"phrase\" or '('")


def _leaf(token: _Token) -> Leaf:
    text = token.text.strip()
    prefix = text.endswith("*")
    if "*" in text.rstrip("*") or text.endswith("**"):
        raise QueryError(f"at {token.at + 1}: a wildcard * goes only at the end of a word")
    raw = split(text)
    if not any(word.isalnum() or len(word) > 1 for word in raw):
        what = "phrase" if token.kind == "PHRASE" else "word"
        raise QueryError(f"at {token.at + 1}: empty {what}")
    pairs = [forms(word) for word in raw]
    if prefix and len(pairs[-1][1]) < MIN_PREFIX_CHARS:
        raise QueryError(
            f"at {token.at + 1}: a wildcard needs at least {MIN_PREFIX_CHARS} characters before *"
        )
    quoted = f'"{token.text}"' if token.kind == "PHRASE" else token.text
    return Leaf(
        words=tuple(folded for _, folded in pairs),
        exact=tuple(exact for exact, _ in pairs) if token.case else None,
        prefix=prefix,
        source=("=" if token.case else "") + quoted + (f"~{token.slop}" if token.slop else ""),
        slop=token.slop if len(raw) > 1 else 0,
    )


def _spans(node: Node) -> bool:
    """Whether a node's matches are places in the text (what NEAR measures between)."""
    if isinstance(node, Leaf | Near):
        return True
    if isinstance(node, AnyOf):
        return all(_spans(part) for part in node.parts)
    if isinstance(node, Field):
        return _spans(node.part)
    return False


def positive(node: Node) -> bool:
    """Whether a match needs something present (not only something absent)."""
    if isinstance(node, Leaf | Near):
        return True
    if isinstance(node, Not):
        return False
    if isinstance(node, AllOf):
        return any(positive(part) for part in node.parts)
    if isinstance(node, AnyOf):
        return all(positive(part) for part in node.parts)
    return positive(node.part)


def parse(query: str, aliases: Mapping[str, Node] | None = None) -> Node:
    """The syntax tree of `query`, with `@name` standing for `aliases[name]`; raise
    `QueryError` naming the position of a mistake."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query longer than {MAX_QUERY_CHARS} characters")
    if not query.strip():
        raise QueryError("empty query")
    parser = _Parser(query, aliases or {})
    node = parser.any()
    if parser.peek.kind != "END":
        raise parser.fail("OR, AND, NOT, NEAR/n, a word or the end of the query")
    if not positive(node):
        raise QueryError(
            "the query matches only by what is absent; add a word or phrase, e.g. A AND NOT B"
        )
    if aliases and _leaves(node, {}) > MAX_EXPANDED_LEAVES:
        raise QueryError(f"more than {MAX_EXPANDED_LEAVES} words and phrases once aliases expand")
    return node


def _leaves(node: Node, counted: dict[int, int]) -> int:
    """How many words and phrases `node` holds with every alias written out."""
    known = counted.get(id(node))
    if known is not None:
        return known
    if isinstance(node, Leaf):
        count = 1
    elif isinstance(node, AnyOf | AllOf):
        count = sum(_leaves(part, counted) for part in node.parts)
    elif isinstance(node, Near):
        count = _leaves(node.left, counted) + _leaves(node.right, counted)
    else:
        count = _leaves(node.part, counted)
    counted[id(node)] = count
    return count


def resolve_aliases(texts: Mapping[str, str]) -> dict[str, Node]:
    """The syntax trees of named queries that may name each other (`@name`).

    Raise `AliasError` naming the alias whose query is wrong: a mistake, an
    unknown alias, or a cycle (`@a` naming `@b` naming `@a`).
    """
    resolved: dict[str, Node] = {}

    def resolve(name: str, chain: tuple[str, ...]) -> Node:
        known = resolved.get(name)
        if known is not None:
            return known
        if name in chain:
            cycle = " -> ".join(f"@{link}" for link in (*chain[chain.index(name) :], name))
            raise AliasError(name, f"aliases name each other in a cycle: {cycle}")
        referenced = {}
        for other in dict.fromkeys(_REFERENCE.findall(texts[name])):
            if other not in texts:
                names = ", ".join(f"@{alias}" for alias in texts)
                raise AliasError(name, f"unknown alias @{other} (aliases: {names})")
            referenced[other] = resolve(other, (*chain, name))
        try:
            node = resolved[name] = parse(texts[name], referenced)
        except AliasError:
            raise
        except QueryError as exc:
            raise AliasError(name, str(exc)) from None
        return node

    for name in texts:
        if not _NAME.fullmatch(name):
            raise AliasError(name, "an alias name is letters, digits and _ only")
        resolve(name, ())
    return resolved


_NAME = re.compile("[A-Za-z0-9_]+")
_REFERENCE = re.compile("@([A-Za-z0-9_]+)")
