"""What every keyword emitter shares: where the value is, what it can be, how to descend."""
from __future__ import annotations

from typing import Any, Callable, Dict, FrozenSet, NamedTuple, Optional, Set, Tuple

from .support import Rules
from .writer import Constants, FunctionState, Lines, block

# What a value can be once some checks passed. Disjoint; OTHER_NUMBER is a non-JSON Number
# (a Decimal from a handler), BYTES a response value the OAS 3.0 'binary' format lets through.
NULL, BOOLEAN, INT, FLOAT, OTHER_NUMBER = "null", "boolean", "int", "float", "other-number"
STRING, BYTES, ARRAY, OBJECT, OTHER = "string", "bytes", "array", "object", "other"
ALL_KINDS: FrozenSet[str] = frozenset(
    (NULL, BOOLEAN, INT, FLOAT, OTHER_NUMBER, STRING, BYTES, ARRAY, OBJECT, OTHER))
NUMBERS: FrozenSet[str] = frozenset((INT, FLOAT, OTHER_NUMBER))

# Type keyword values: the kinds they admit and the test (jsonschema's type checkers).
TYPE_KINDS: Dict[Tuple[str, str], FrozenSet[str]] = {
    ("oas30", "integer"): frozenset((INT,)),
    ("oas31", "integer"): frozenset((INT, FLOAT)),  # draft 6+: 1.0 is an integer
}
COMMON_TYPE_KINDS: Dict[str, FrozenSet[str]] = {
    "string": frozenset((STRING,)), "number": NUMBERS, "boolean": frozenset((BOOLEAN,)),
    "array": frozenset((ARRAY,)), "object": frozenset((OBJECT,)), "null": frozenset((NULL,)),
}
TYPE_TESTS: Dict[str, str] = {
    "string": "isinstance({v}, str)",
    "number": "({v}.__class__ is int or {v}.__class__ is float or _is_number({v}))",
    "boolean": "({v} is True or {v} is False)",
    "array": "isinstance({v}, list)",
    "object": "isinstance({v}, dict)",
    "null": "{v} is None",
}
INTEGER_TESTS = {
    "oas30": "({v}.__class__ is int or _is_integer30({v}))",
    "oas31": "({v}.__class__ is int or _is_integer31({v}))",
}


def type_kinds(dialect: str, name: str) -> FrozenSet[str]:
    return TYPE_KINDS.get((dialect, name)) or COMMON_TYPE_KINDS[name]


def type_test(dialect: str, name: str, var: str) -> str:
    template = INTEGER_TESTS[dialect] if name == "integer" else TYPE_TESTS[name]
    return template.format(v=var)


class At(NamedTuple):
    """The value being checked: its variable, error path, known kinds, place in the schema."""

    var: str
    path: Tuple[str, ...]  # Python expressions: string literals, loop variables
    kinds: FrozenSet[str]
    where: str  # location in the schema, for Unsupported messages
    depth: int = 1  # indentation inside the generated function
    loops: int = 0  # loops enclosing this code

    def narrow(self, kinds: FrozenSet[str]) -> At:
        return self._replace(kinds=self.kinds & kinds)

    def inside(self, blocks: int = 1, loops: int = 0) -> At:
        return self._replace(depth=self.depth + blocks, loops=self.loops + loops)


class EmitterBase:
    """State and primitives the keyword mixins use; SchemaEmitter implements the rest."""

    def __init__(self, rules: Rules, consts: Constants, state: FunctionState) -> None:
        self.rules = rules
        self.consts = consts
        self.state = state

    def has(self, schema: Dict[str, Any], key: str) -> bool:
        """The keyword is present and the reference class evaluates it."""
        return key in schema and key in self.rules.keywords

    def guard(self, at: At, needed: FrozenSet[str], test: str,
              emit: Callable[[At], Lines]) -> Lines:
        """Emit checks that apply only to some kinds, testing the kind only when in doubt."""
        if not at.kinds & needed:
            return []
        if at.kinds <= needed:
            return emit(at)
        return block(f"if {test}:", emit(at.narrow(needed).inside()))

    def descend(self, sub: Any, at: At, var: str, part: Optional[str], where: str) -> Lines:
        raise NotImplementedError

    def function_for(self, sub: Any, at: At, where: str) -> Optional[str]:
        raise NotImplementedError

    def one_way(self, schema: Dict[str, Any]) -> Set[str]:
        """The properties `required` does not apply to in this direction."""
        raise NotImplementedError
