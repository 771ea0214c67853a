"""The enclosing scope (function, method, class) of changed lines, found with tree-sitter."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter
import tree_sitter_c
import tree_sitter_cpp
import tree_sitter_go
import tree_sitter_java
import tree_sitter_javascript
import tree_sitter_python
import tree_sitter_ruby
import tree_sitter_rust
import tree_sitter_typescript


@dataclass(frozen=True)
class Scope:
    """Lines at the head commit to show around a change, and what they are."""

    start: int  # first line, 1-based, inclusive, at head
    end: int  # last line, inclusive
    label: str  # "function evaluate", "method Cart.total", "class Cart", "lines 30-50"
    clipped: bool = False  # the scope was longer than max_lines and only part of it is given


_EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".rb": "ruby",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hpp": "cpp",
    ".hh": "cpp",
    ".hxx": "cpp",
}

_GRAMMARS: dict[str, Callable[[], object]] = {
    "python": tree_sitter_python.language,
    "javascript": tree_sitter_javascript.language,
    "typescript": tree_sitter_typescript.language_typescript,
    "tsx": tree_sitter_typescript.language_tsx,
    "go": tree_sitter_go.language,
    "java": tree_sitter_java.language,
    "rust": tree_sitter_rust.language,
    "ruby": tree_sitter_ruby.language,
    "c": tree_sitter_c.language,
    "cpp": tree_sitter_cpp.language,
}


@dataclass(frozen=True)
class _Syntax:
    """Which nodes of one grammar are scopes, and how to read them."""

    # Node type -> the word the label uses for it; "function" becomes "method" inside a class.
    kinds: dict[str, str]
    # Nodes that add lines (decorators, `export`, `template <...>`) to the one definition inside.
    wrappers: frozenset[str] = frozenset()
    # Sibling nodes that belong to the definition right after them (JS decorators, Rust #[...]).
    leading: frozenset[str] = frozenset()
    separator: str = "."


_JS_KINDS = {
    "function_declaration": "function",
    "generator_function_declaration": "function",
    "method_definition": "method",
    "class_declaration": "class",
    # These are scopes only when the value they hold is a function (see _VALUE_FIELD).
    "variable_declarator": "function",
    "assignment_expression": "function",
    "field_definition": "function",
    "pair": "function",
}
_TS_KINDS = _JS_KINDS | {
    "abstract_class_declaration": "class",
    "interface_declaration": "interface",
    "enum_declaration": "enum",
    "internal_module": "namespace",
    "module": "module",
    "public_field_definition": "function",
    "function_signature": "function",
    "method_signature": "method",
    "abstract_method_signature": "method",
}
_JS_WRAPPERS = frozenset({"export_statement", "lexical_declaration", "variable_declaration"})
_C_KINDS = {
    "function_definition": "function",
    "struct_specifier": "struct",
    "union_specifier": "union",
    "enum_specifier": "enum",
}

_SYNTAX = {
    "python": _Syntax(
        kinds={"function_definition": "function", "class_definition": "class"},
        wrappers=frozenset({"decorated_definition"}),
    ),
    "javascript": _Syntax(_JS_KINDS, _JS_WRAPPERS, frozenset({"decorator"})),
    "typescript": _Syntax(_TS_KINDS, _JS_WRAPPERS, frozenset({"decorator"})),
    "tsx": _Syntax(_TS_KINDS, _JS_WRAPPERS, frozenset({"decorator"})),
    "go": _Syntax(
        kinds={
            "function_declaration": "function",
            "method_declaration": "method",
            "type_declaration": "type",
        }
    ),
    "java": _Syntax(
        kinds={
            "method_declaration": "method",
            "constructor_declaration": "constructor",
            "compact_constructor_declaration": "constructor",
            "class_declaration": "class",
            "interface_declaration": "interface",
            "enum_declaration": "enum",
            "record_declaration": "record",
            "annotation_type_declaration": "annotation",
        }
    ),
    "rust": _Syntax(
        kinds={
            "function_item": "function",
            "function_signature_item": "function",
            "impl_item": "impl",
            "struct_item": "struct",
            "enum_item": "enum",
            "union_item": "union",
            "trait_item": "trait",
            "mod_item": "module",
        },
        leading=frozenset({"attribute_item"}),
        separator="::",
    ),
    "ruby": _Syntax(
        kinds={
            "method": "method",
            "singleton_method": "method",
            "class": "class",
            "singleton_class": "class",
            "module": "module",
        }
    ),
    "c": _Syntax(_C_KINDS),
    "cpp": _Syntax(
        _C_KINDS | {"class_specifier": "class", "namespace_definition": "namespace"},
        wrappers=frozenset({"template_declaration"}),
        separator="::",
    ),
}

# Container words whose functions are methods (a function in a namespace or module stays one).
_METHOD_HOSTS = frozenset({"class", "interface", "impl", "trait", "struct", "record", "enum"})
# Assignment-like nodes and the field holding the value that makes them a function.
_VALUE_FIELD = {
    "variable_declarator": "value",
    "assignment_expression": "right",
    "field_definition": "value",
    "public_field_definition": "value",
    "pair": "value",
}
_FUNCTION_VALUES = frozenset(
    {"arrow_function", "function_expression", "function", "generator_function"}
)
# Children a wrapper may have besides the one definition it wraps.
_WRAPPER_EXTRAS = frozenset({"decorator", "comment", "template_parameter_list"})
# A C/C++ struct_specifier without a body is a use of the type (`struct p *x`), not a definition.
_NEEDS_BODY = frozenset(
    {"struct_specifier", "union_specifier", "enum_specifier", "class_specifier"}
)
_NAME_NODES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "operator_cast",
        "template_function",
    }
)
# Beyond this the file is generated or data; a window around the change is all it gets.
_MAX_PARSE_BYTES = 4 * 1024 * 1024
_MAX_VISITS = 5_000
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_NAME_CHARS = 80

_parsers: dict[str, tree_sitter.Parser] = {}
# A Parser must not run two parses at once; the review may call this from worker threads.
_parse_lock = threading.Lock()


def language_of(path: str) -> str | None:
    """The grammar for a file by its extension ("python", "tsx", ...), None when there is none."""
    return _EXTENSIONS.get(os.path.splitext(path)[1].lower())


def parses(path: str, text: str) -> bool | None:
    """True when `text` parses without a syntax error in its file's grammar, False when it
    does not, None when there is no grammar for the file (or it is too large to parse)."""
    language = language_of(path)
    data = text.encode("utf-8", errors="replace")
    if language is None or len(data) > _MAX_PARSE_BYTES:
        return None
    with _parse_lock:
        tree = _parser(language).parse(data)
    return not tree.root_node.has_error


def enclosing(
    path: str, text: str, start: int, end: int, *, max_lines: int = 150, window: int = 10
) -> Scope:
    """The smallest function or class at head holding lines start..end, else a window of lines.

    A scope longer than max_lines is cut to max_lines lines around the range (clipped=True).
    """
    line_count = text.count("\n") + 1
    max_lines = max(1, max_lines)
    start, end = sorted((min(max(start, 1), line_count), min(max(end, 1), line_count)))
    language = language_of(path)
    found = None
    if language is not None and text.strip():
        try:
            found = _definition_around(language, text, start - 1, end - 1)
        except Exception:  # the scope is a nicety; a window always does
            found = None
    if found is None:
        first = max(1, start - max(0, window))
        last = min(line_count, end + max(0, window))
        first, last = _cut(first, last, start, end, max_lines)
        return Scope(first, last, f"lines {first}-{last}")
    first, last, label = found
    if last - first + 1 <= max_lines:
        return Scope(first, last, label)
    part_first, part_last = _cut(first, last, start, end, max_lines)
    return Scope(
        part_first,
        part_last,
        f"part of {label} (lines {part_first}-{part_last} of {first}-{last})",
        clipped=True,
    )


def _cut(first: int, last: int, start: int, end: int, max_lines: int) -> tuple[int, int]:
    """At most max_lines of first..last around start..end, centred; start..end when longer."""
    if last - first + 1 <= max_lines:
        return first, last
    if end - start + 1 >= max_lines:
        return start, end
    lo = max(first, start - (max_lines - (end - start + 1)) // 2)
    hi = min(last, lo + max_lines - 1)
    return max(first, hi - max_lines + 1), hi


def _parser(language: str) -> tree_sitter.Parser:
    parser = _parsers.get(language)
    if parser is None:
        parser = tree_sitter.Parser(tree_sitter.Language(_GRAMMARS[language]()))
        _parsers[language] = parser
    return parser


# The last file parsed: a file's hunks are asked about one after another, so it is parsed once.
_last: tuple[str, str, tree_sitter.Tree] | None = None


def _parsed(language: str, text: str, data: bytes) -> tree_sitter.Tree:
    """The syntax tree of `text` (held under _parse_lock)."""
    global _last
    if _last is not None and _last[0] == language and (_last[1] is text or _last[1] == text):
        return _last[2]
    tree = _parser(language).parse(data)
    _last = (language, text, tree)
    return tree


def _definition_around(
    language: str, text: str, first_row: int, last_row: int
) -> tuple[int, int, str] | None:
    """(first line, last line, label) of the innermost definition holding rows first..last."""
    data = text.encode("utf-8", errors="replace")
    if len(data) > _MAX_PARSE_BYTES:
        return None
    with _parse_lock:
        tree = _parsed(language, text, data)
    syntax = _SYNTAX[language]
    # Walk down by rows, not bytes: a line like `};` ends a field but also holds its parent's
    # `;`. A range of one line can lie in several siblings (one-line methods side by side), so
    # every branch holding the rows is followed; the budget bounds minified files.
    found: dict[int, tuple[tree_sitter.Node, tuple[int, ...]]] = {}
    stack: list[tuple[tree_sitter.Node, tuple[int, ...]]] = [(tree.root_node, ())]
    budget = _MAX_VISITS
    while stack:
        budget -= 1
        if budget < 0:
            return None
        node, outer = stack.pop()
        definition = _definition(node, syntax)
        if definition is not None and definition.id not in found:
            found[definition.id] = (definition, outer)
            outer = (*outer, definition.id)
        run_start: int | None = None
        for child in node.named_children:
            child_first = child.start_point[0] if run_start is None else run_start
            run_start = child_first if child.type in syntax.leading else None
            if child_first > last_row:
                break
            if (
                run_start is None
                and child.type not in _COMMENTS
                and child_first <= first_row
                and _last_row(child) >= last_row
            ):
                stack.append((child, outer))
    # The innermost definition that holds, or sits inside, every other one that was found.
    best: tuple[tree_sitter.Node, tuple[int, ...]] | None = None
    for definition, outer in found.values():
        if best is not None and len(outer) <= len(best[1]):
            continue
        if all(
            other.id == definition.id or other.id in outer or definition.id in other_outer
            for other, other_outer in found.values()
        ):
            best = (definition, outer)
    if best is None:
        return None
    first, last = _extent(best[0], syntax)
    return first + 1, last + 1, _label(best[0], syntax)


def _extent(definition: tree_sitter.Node, syntax: _Syntax) -> tuple[int, int]:
    """Rows of a definition with its wrappers and the decorators or attributes before it."""
    outer = _widen(definition, syntax)
    top = outer
    while top.prev_named_sibling is not None and top.prev_named_sibling.type in syntax.leading:
        top = top.prev_named_sibling
    return top.start_point[0], _last_row(outer)


def _last_row(node: tree_sitter.Node) -> int:
    row, column = node.end_point
    # A node that ends with its newline ends on the line before.
    if column == 0 and row > node.start_point[0]:
        return row - 1
    return row


def _definition(node: tree_sitter.Node, syntax: _Syntax) -> tree_sitter.Node | None:
    """The definition node is, or wraps alone (a decorated function, an exported const)."""
    if node.type in syntax.kinds:
        return node if _is_definition(node) else None
    if node.type not in syntax.wrappers:
        return None
    inner = None
    for child in node.named_children:
        if child.type in _WRAPPER_EXTRAS:
            continue
        if inner is not None:
            return None
        inner = _definition(child, syntax)
        if inner is None:
            return None
    return inner


def _is_definition(node: tree_sitter.Node) -> bool:
    field = _VALUE_FIELD.get(node.type)
    if field is not None:
        value = node.child_by_field_name(field)
        return value is not None and value.type in _FUNCTION_VALUES
    if node.type in _NEEDS_BODY:
        return node.child_by_field_name("body") is not None
    return True


def _widen(node: tree_sitter.Node, syntax: _Syntax) -> tree_sitter.Node:
    """The outermost wrapper that holds nothing but this definition."""
    while (
        node.parent is not None
        and node.parent.type in syntax.wrappers
        and _definition(node.parent, syntax) is not None
    ):
        node = node.parent
    return node


def _label(node: tree_sitter.Node, syntax: _Syntax) -> str:
    kind = syntax.kinds[node.type]
    hosts = []
    parent = node.parent
    while parent is not None:
        if parent.type in syntax.kinds and _is_definition(parent):
            hosts.append(parent)
        parent = parent.parent
    if kind == "function" and hosts and syntax.kinds[hosts[0].type] in _METHOD_HOSTS:
        kind = "method"
    if node.type == "type_declaration":
        kind = _go_type_kind(node)
    names = [_name(host) for host in reversed(hosts)]
    if node.type == "method_declaration" and node.child_by_field_name("receiver") is not None:
        names.append(_go_receiver(node))
    own = _name(node)
    names.append(own)
    name = syntax.separator.join(n for n in names if n)
    if node.type == "impl_item":
        trait = node.child_by_field_name("trait")
        if trait is not None:
            return f"impl {_text(trait)} for {name}"
    return f"{kind} {name}" if own else f"{kind} <anonymous>"


def _name(node: tree_sitter.Node) -> str:
    kind = node.type
    if kind == "function_definition" and node.child_by_field_name("name") is None:
        return _declarator_name(node)
    if kind == "type_declaration":
        for spec in node.named_children:
            if spec.child_by_field_name("name") is not None:
                return _text(spec.child_by_field_name("name"))
        return ""
    if kind == "impl_item":
        impl_type = node.child_by_field_name("type")
        if impl_type is not None and impl_type.type == "generic_type":
            impl_type = impl_type.child_by_field_name("type")
        return _text(impl_type)
    field = {"assignment_expression": "left", "field_definition": "property", "pair": "key"}
    return _text(node.child_by_field_name(field.get(kind, "name")))


def _declarator_name(node: tree_sitter.Node) -> str:
    """`count` in `static int *count(void)`, `Cart::total` in `int Cart::total() const`."""
    declarator = node.child_by_field_name("declarator")
    for _ in range(32):
        if declarator is None:
            return ""
        if declarator.type in _NAME_NODES:
            return _text(declarator)
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            inner = next(
                (
                    child
                    for child in declarator.named_children
                    if child.type in _NAME_NODES or child.type.endswith("declarator")
                ),
                None,
            )
        declarator = inner
    return ""


def _go_type_kind(node: tree_sitter.Node) -> str:
    """The word for the first type the declaration names: struct, interface or type."""
    for spec in node.named_children:
        if spec.child_by_field_name("name") is not None:
            spec_type = spec.child_by_field_name("type")
            if spec_type is not None and spec_type.type in ("struct_type", "interface_type"):
                return spec_type.type.removesuffix("_type")
            return "type"
    return "type"


def _go_receiver(node: tree_sitter.Node) -> str:
    """`Cart` in `func (c *Cart[T]) Total()`."""
    stack = [node.child_by_field_name("receiver")]
    while stack:
        current = stack.pop()
        if current is None:
            continue
        if current.type == "type_identifier":
            return _text(current)
        stack.extend(reversed(current.named_children))
    return ""


def _text(node: tree_sitter.Node | None) -> str:
    if node is None or node.text is None:
        return ""
    words = node.text.decode("utf-8", errors="replace").split()
    return " ".join(words)[:_NAME_CHARS]
