"""py_bytecode's Starlark reference is written once: the attribute docs in
bazel-rules/private/py_bytecode.bzl. The reference at the top of bazel-rules/defs.bzl (which
docs/bazel.md points to) must be what tests/lib/starlark_reference.py generates from them (names,
types, defaults and allowed values as the rule declares them, and the docs), and every
py_bytecode(...) call in docs/bazel.md and examples/bazel/ may only use attributes the rule has.
Reads files only: no Bazel, no interpreter; milliseconds.
"""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import starlark_reference as ref  # noqa: E402

# Attributes every Bazel rule has.
COMMON = {"name", "visibility", "tags", "testonly", "features", "compatible_with", "target_compatible_with",
          "exec_compatible_with", "deprecation", "restricted_to", "applicable_licenses"}


def py_bytecode_calls(text):
    """The argument text of every `py_bytecode(...)` call in `text` (parentheses balanced)."""
    calls = []
    for match in re.finditer(r"\bpy_bytecode\(", text):
        depth, i = 1, match.end()
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        calls.append(text[match.end():i - 1])
    return calls


class StarlarkReferenceTest(unittest.TestCase):
    def test_defs_reference_is_generated_from_the_attribute_docs(self):
        with open(ref.DEFS, encoding="utf-8") as f:
            current = f.read()
        self.assertEqual(ref.generated_defs(current), current,
                         "bazel-rules/defs.bzl is out of date: run tests/lib/starlark_reference.py --write")
        names = [name for name, _ in ref.rule_attributes()]
        self.assertIn("optimize", names)
        section = current.partition(ref.ATTRIBUTES_START)[2].partition(ref.ATTRIBUTES_END)[0]
        self.assertEqual(re.findall(r"^  (\w+): ", section, re.M), names)  # each once, in the rule's order

    def test_a_changed_declaration_changes_the_reference(self):
        """The reference follows the declaration, not only the doc: another default is seen."""
        with open(ref.RULE_FILE, encoding="utf-8") as f:
            rule = f.read()
        changed = rule.replace('default = "checked_hash"', 'default = "timestamp"', 1)
        self.assertNotEqual(changed, rule)
        with tempfile.NamedTemporaryFile("w", suffix=".bzl", delete=False) as f:
            f.write(changed)
        try:
            described = dict(ref.rule_attributes(f.name))["invalidation_mode"]
        finally:
            os.unlink(f.name)
        self.assertIn('"timestamp" (default)', ref.describe("invalidation_mode", described))
        self.assertNotIn('"timestamp" (default)', ref.attributes_text())

    def test_docs_and_examples_use_only_real_attributes(self):
        attributes = {name for name, _ in ref.rule_attributes()} | COMMON
        files = [os.path.join(ref.REPO, "docs", "bazel.md"), ref.DEFS]
        for directory, _, names in os.walk(os.path.join(ref.REPO, "examples", "bazel")):
            files += [os.path.join(directory, n) for n in names if n in ("BUILD", "BUILD.bazel")]
        calls = 0
        for path in files:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            for call in py_bytecode_calls(text):
                used = set(re.findall(r"(?:^|[(,\n])\s*(\w+)\s*=(?!=)", call))
                self.assertEqual(used - attributes, set(), "%s: py_bytecode(%s)" % (path, call.strip()))
                calls += 1
        self.assertGreaterEqual(calls, 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
