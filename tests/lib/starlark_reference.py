#!/usr/bin/env python3
"""The Starlark reference of py_bytecode, written once: in the rule's own attribute and field docs.

bazel-rules/private/py_bytecode.bzl defines the rule's attributes (`attr.*(doc = ...)`) and
PyBytecodeInfo's fields (`provider(fields = {...})`); the reference at the top of
bazel-rules/defs.bzl (its "Attributes:" and "## PyBytecodeInfo" parts, which docs/bazel.md points
to) is generated from them: each attribute's name, its type, default and allowed values (as the
rule declares them) and its doc.

    starlark_reference.py          exits 1 and prints a diff when defs.bzl is not what it generates
    starlark_reference.py --write  rewrites those two parts of defs.bzl

Starlark's syntax is a subset of Python's, so the .bzl files are read with Python's `ast`; only
literals (strings, numbers, lists, `+` of strings) are evaluated, never the file.
"""
import ast
import difflib
import os
import sys
import textwrap

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RULE_FILE = os.path.join(REPO, "bazel-rules", "private", "py_bytecode.bzl")
DEFS = os.path.join(REPO, "bazel-rules", "defs.bzl")
RULE = "py_bytecode"
PROVIDER = "PyBytecodeInfo"

TYPES = {"label": "label", "label_list": "list of labels", "string": "string", "string_list": "list of strings",
         "int": "integer", "int_list": "list of integers", "bool": "boolean", "string_dict": "dict of strings"}
EMPTY_DEFAULTS = {"label_list": [], "string_list": [], "int_list": [], "string": "", "int": 0, "bool": False,
                  "string_dict": {}}

# The generated parts of defs.bzl: from the line after START up to (not including) END.
ATTRIBUTES_START = ("Attributes (written once, in the attribute docs of private/py_bytecode.bzl, and copied here\n"
                    "by tests/lib/starlark_reference.py --write):\n\n")
ATTRIBUTES_END = "\nExecution:"
FIELDS_START = "## PyBytecodeInfo\n"
FIELDS_END = '"""\n'


def literal(node):
    """The value of a literal expression: strings, numbers, booleans, lists, dicts, `+` of two."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return literal(node.left) + literal(node.right)
    if isinstance(node, ast.List):
        return [literal(e) for e in node.elts]
    if isinstance(node, ast.Dict):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Name) and node.id in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    return Unevaluated(ast.unparse(node))


class Unevaluated(str):
    """An expression that is not a literal (a Label(...) call), kept as its source text."""


def call_assigned(tree, name, function):
    """The `function(...)` call assigned to `name` at the top level of `tree`."""
    for node in tree.body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == [name]
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == function):
            return node.value
    raise SystemExit("%s: no `%s = %s(...)`" % (RULE_FILE, name, function))


def keywords(call):
    return {k.arg: k.value for k in call.keywords}


def rule_attributes(path=RULE_FILE, rule=RULE):
    """[(name, {"type": attr.<type>, "doc", "default", "values", "mandatory"})] of the rule's
    public attributes, in their order in the file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    attrs = keywords(call_assigned(tree, rule, "rule"))["attrs"]
    found = []
    for key, value in zip(attrs.keys, attrs.values):
        name = literal(key)
        if name.startswith("_"):
            continue
        if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)):
            raise SystemExit("%s: attribute %s is not an attr.<type>(...) call" % (path, name))
        spec = {k: literal(v) for k, v in keywords(value).items()}
        spec["type"] = value.func.attr
        found.append((name, spec))
    return found


def provider_fields(path=RULE_FILE, provider=PROVIDER):
    """[(field, doc)] of the provider, in their order in the file."""
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    return list(literal(keywords(call_assigned(tree, provider, "provider"))["fields"]).items())


def starlark(value):
    """A value as Starlark source: "x", [0], True."""
    if isinstance(value, Unevaluated):
        return str(value)
    if isinstance(value, str):
        return '"%s"' % value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return "[%s]" % ", ".join(starlark(v) for v in value)
    return repr(value)


def one_line(text):
    return " ".join(text.split())


def wrap(first, text, indent="    ", width=96):
    return textwrap.fill(one_line(text), width=width, initial_indent=first, subsequent_indent=indent,
                         break_long_words=False, break_on_hyphens=False) + "\n"


def describe(name, spec):
    """What the reference says of one attribute: type, default or allowed values, then its doc."""
    kind = TYPES.get(spec["type"], spec["type"])
    if "values" in spec:
        default = spec.get("default", EMPTY_DEFAULTS.get(spec["type"]))
        values = [starlark(v) + (" (default)" if v == default else "") for v in spec["values"]]
        kind += ", one of " + ", ".join(values)
    elif spec.get("mandatory"):
        kind += ", required"
    elif "default" in spec:
        kind += ", default " + starlark(spec["default"])
    elif spec["type"] == "label":
        kind += ", optional"
    else:
        kind += ", default " + starlark(EMPTY_DEFAULTS.get(spec["type"]))
    if not one_line(spec.get("doc", "")):
        raise SystemExit("%s: attribute %s of %s has no doc" % (RULE_FILE, name, RULE))
    return wrap("  ", "%s: %s. %s" % (name, kind, spec["doc"]))


def attributes_text():
    return "".join(describe(name, spec) for name, spec in rule_attributes())


def fields_text():
    return "\n" + "".join(wrap("  ", "%s: %s" % (field, doc)) for field, doc in provider_fields())


def replace_between(text, start, end, new):
    head, found, rest = text.partition(start)
    if not found:
        raise SystemExit("%s: no line %r" % (DEFS, start.strip()))
    at = rest.index(end)
    return head + start + new + rest[at:]


def generated_defs(text):
    """`text` (defs.bzl) with its generated parts as the rule file says."""
    text = replace_between(text, ATTRIBUTES_START, ATTRIBUTES_END, attributes_text())
    return replace_between(text, FIELDS_START, FIELDS_END, fields_text())


def main(argv):
    with open(DEFS, encoding="utf-8") as f:
        current = f.read()
    wanted = generated_defs(current)
    if argv[:1] == ["--write"]:
        if wanted != current:
            with open(DEFS, "w", encoding="utf-8") as f:
                f.write(wanted)
        return 0
    if wanted != current:
        sys.stdout.writelines(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True),
                                                   "bazel-rules/defs.bzl", "generated"))
        print("bazel-rules/defs.bzl is out of date: run tests/lib/starlark_reference.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
