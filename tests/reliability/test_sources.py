"""Hostile sources: every file's result is what the target interpreter itself
says, a failure is named with the interpreter's own exception, and a good
existing pyc survives a failed recompile.

Cases: a 50 MB source (and the same source over the time limit); deeply
nested expressions (the parser's MemoryError, the compiler's RecursionError,
marshal's depth limit); sources valid for one Python version and not another
(with --on-error warn and skip); a syntax error in the last line of a large
file; CRLF, CR, BOM, encoding cookies and other byte-level oddities. The
expectation for each file comes from running compile() in that interpreter.
"""
import os
import re
import sys
import tempfile
import time
import json
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pycemit_testlib as lib  # noqa: E402
import reliability_testlib as rlib  # noqa: E402

NESTED = {
    "unary_minus": "x = " + "-" * 100000 + "1\n",
    "not_not": "x = " + "not " * 100000 + "1\n",
    "attribute_chain": "x = a" + ".b" * 100000 + "\n",
    "parentheses": "x = " + "(" * 1000 + "1" + ")" * 1000 + "\n",
    "additions": "x = " + "+".join(["1"] * 100000) + "\n",
    "lambdas_990": "x = " + "lambda: " * 990 + "1\n",   # marshal's depth limit is 2000 (about 1000 lambdas)
    "lambdas_1200": "x = " + "lambda: " * 1200 + "1\n",  # too deep to marshal
    "lists_150": "x = " + "[" * 150 + "]" * 150 + "\n",
    "indents_100": "".join(" " * i + "if x:\n" for i in range(100)) + " " * 100 + "pass\n",
    "strings_100000": "x = " + " ".join(['"a"'] * 100000) + "\n",
}

VERSION_SPECIFIC = {
    "walrus_posonly": "def f(a, /, b):\n    return (n := a + b)\n",             # 3.8+
    "paren_with": "with (open('a') as a,\n      open('b') as b):\n    pass\n",     # 3.9+ (pegen)
    "match_stmt": "match x:\n    case [1, *rest]:\n        pass\n    case _:\n        pass\n",  # 3.10+
    "except_star": "try:\n    pass\nexcept* ValueError:\n    pass\n",           # 3.11+
    "type_alias": "type Point = tuple[float, float]\n",                        # 3.12+
    "generic_def": "def first[T](xs: list[T]) -> T:\n    return xs[0]\n",        # 3.12+
    "fstring_reuse": "x = f\"{'a' + f\"{1}\"}\"\n",                              # 3.12+ (PEP 701)
    "py2_print": "print 'hello'\n",                                           # never
    "async_name": "async = 1\n",                                              # never (3.7+)
}

BYTES = {
    "crlf": b"x = 1\r\ny = '''a\r\nb'''\r\ndef f():\r\n    return x\r\n",
    "cr_only": b"x = 1\ry = 2\rdef f():\r    return x\r",
    "mixed_newlines": b"x = 1\r\ny = 2\nz = '''a\rb\r\nc'''\r",
    "bom": b"\xef\xbb\xbfx = '\xc3\xa9'\n",
    "bom_cookie": b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nx = '\xc3\xa9'\n",
    "bom_latin1": b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = 1\n",
    "latin1_cookie": b"# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    "crlf_latin1_cookie": b"# coding: latin-1\r\nx = '\xe9'\r\n",
    "no_final_newline": b"x = 1\ndef f():\n    return x",
    "backslash_at_eof": b"x = 1 + \\",
    "empty": b"",
    "bom_only": b"\xef\xbb\xbf",
    "form_feeds": b"\x0cx = 1\n\x0c\ndef f():\n\x0c    return 1\n",
    "crlf_continuation": b"x = 1 + \\\r\n    2\r\n",
    "utf16_cookie": b"# coding: utf-16\nx = 1\n",
    "nul_byte": b"x = 1\n\x00\n",
    "escaped_cr_in_string": b"x = 'a\\\rb'\n",
    "crlf_docstring": b"'''Doc\r\nstring'''\r\nclass C:\r\n    '''More\r\n    doc'''\r\n",
}


class SourcesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="pycemit reliability sources ")
        self.addCleanup(self.tmp.cleanup)
        self.pycemit = rlib.Pycemit(self)

    def compile(self, python, tree, *args, timeout=300):
        return self.pycemit.run(["compile", "--python", python, "--source-root", tree] + list(args) + [tree],
                                timeout=timeout)

    def check_against_interpreter(self, python, tree, sources, result, level=0, verify=True):
        """Each source compiled iff the interpreter's own compile() accepts it;
        each failure reported with the interpreter's exception type and message."""
        errors = rlib.error_lines(result.stderr)
        expected_failures = 0
        ok = []
        outcome = {}
        for source in sources:
            expected = rlib.interpreter_compiles(python, source)
            outcome[os.path.basename(source)] = expected
            pyc = lib.expected_paths(python, [source], [level])[source][level]
            if expected == "ok":
                ok.append(source)
                self.assertFalse(any(e.startswith(source + ":") for e in errors), (source, errors))
                continue
            expected_failures += 1
            kind, _, message = expected.partition(":")
            message = message.strip()
            pattern = r"^%s(:\d+(:\d+)?)?: %s: ?%s" % (re.escape(source), re.escape(kind),
                                                        re.escape(message).replace(re.escape("<N>"), r"\d+"))
            self.assertTrue(any(re.match(pattern, e) for e in errors),
                            "%s: expected %r in:\n%s" % (source, expected, "\n".join(errors)))
            self.assertFalse(os.path.exists(pyc), pyc)
        self.assertEqual(result.returncode, 1 if expected_failures else 0, rlib.dump(result))
        self.assertEqual(rlib.summary(result.stderr)[3], expected_failures, rlib.dump(result))
        if verify:
            rlib.verify_parallel(python, rlib.expectations_for(python, tree, ok, [level]))
        self.assertEqual(rlib.temporaries(tree), [])
        return ok, outcome

    def test_deeply_nested_expressions(self):
        for index, python in enumerate(lib.target_pythons()):
            with self.subTest(python=python):
                tree = os.path.join(self.tmp.name, "nested-%d" % index)
                sources = [rlib.write(os.path.join(tree, name + ".py"), text) for name, text in sorted(NESTED.items())]
                good = rlib.write(os.path.join(tree, "good.py"), "A = 1\n")
                result = self.compile(python, tree)
                # The lambda chains are too deep for verify_pycs.py's recursive comparison: import them instead.
                ok, outcome = self.check_against_interpreter(python, tree, sources + [good], result, verify=False)
                print("%d.%d" % lib.python_version(python), json.dumps(outcome, sort_keys=True))
                shallow = [s for s in ok if "lambdas" not in s]
                rlib.verify_parallel(python, rlib.expectations_for(python, tree, shallow, [0]))
                modules = [os.path.basename(s)[:-3] for s in ok]
                rlib.import_uses_pycs(python, tree, modules)
                self.assertEqual(outcome["good.py"], "ok")
                self.assertNotEqual(outcome["lambdas_1200.py"], "ok")

    def test_sources_valid_for_one_python_and_not_another(self):
        pythons = lib.target_pythons()
        accepted_somewhere = set()
        for index, python in enumerate(pythons):
            with self.subTest(python=python):
                tree = os.path.join(self.tmp.name, "versions-%d" % index)
                sources = [rlib.write(os.path.join(tree, n + ".py"), t) for n, t in sorted(VERSION_SPECIFIC.items())]
                result = self.compile(python, tree, "-O", "0")
                ok, outcome = self.check_against_interpreter(python, tree, sources, result)
                accepted_somewhere |= {os.path.basename(s) for s in ok}
                print("%d.%d accepts" % lib.python_version(python), sorted(os.path.basename(s) for s in ok))
                # A vendored Python 2 file: --on-error warn/skip report it and succeed.
                for policy, word in (("warn", "warning"), ("skip", "skipped")):
                    again = self.compile(python, tree, "--on-error", policy, "--force")
                    self.assertEqual(again.returncode, 0, rlib.dump(again))
                    py2 = os.path.join(tree, "py2_print.py")
                    self.assertRegex(again.stderr, r"(?m)^%s: %s:\d+:\d+: SyntaxError: " % (word, re.escape(py2)))
                    self.assertEqual(rlib.summary(again.stderr)[3], 0)
        # The table spans versions: something is accepted by a newer Python only.
        self.assertIn("match_stmt.py", accepted_somewhere)
        self.assertNotIn("py2_print.py", accepted_somewhere)

    def test_syntax_error_in_the_last_line_of_a_large_file(self):
        body = "".join("def function_%06d(a, b=%d):\n    return a * b + %d\n\n" % (i, i, i) for i in range(20000))
        lines = body.count("\n")
        for index, python in enumerate(lib.target_pythons()):
            with self.subTest(python=python):
                tree = os.path.join(self.tmp.name, "large-%d" % index)
                big = rlib.write(os.path.join(tree, "big.py"), body)
                other = rlib.write(os.path.join(tree, "other.py"), "X = 1\n")
                self.assertEqual(self.compile(python, tree).returncode, 0)
                pyc = lib.expected_paths(python, [big], [0])[big][0]
                before = rlib.snapshot(tree)
                rlib.write(big, body + "def broken(:\n")
                rlib.write(other, "X = 2\n")
                result = self.compile(python, tree)
                self.assertEqual(result.returncode, 1, rlib.dump(result))
                self.assertEqual(len(rlib.error_lines(result.stderr)), 1, rlib.dump(result))
                self.assertRegex(result.stderr, r"(?m)^%s:%d:\d+: SyntaxError: " % (re.escape(big), lines + 1))
                self.assertEqual(rlib.snapshot(tree)[pyc], before[pyc], "the good old pyc must survive")
                rlib.verify_parallel(python, rlib.expectations_for(python, tree, [other], [0]))
                self.assertEqual(rlib.temporaries(tree), [])
        print("%d lines, %.1f MB" % (lines + 1, len(body) / 1e6))

    def test_newlines_bom_and_encodings(self):
        for index, python in enumerate(lib.target_pythons()):
            with self.subTest(python=python):
                tree = os.path.join(self.tmp.name, "bytes-%d" % index)
                sources = [rlib.write(os.path.join(tree, n + ".py"), b) for n, b in sorted(BYTES.items())]
                result = self.compile(python, tree, "-O", "0", "-O", "2")
                ok, outcome = self.check_against_interpreter(python, tree, sources, result)
                rlib.verify_parallel(python, rlib.expectations_for(python, tree, ok, [2]))
                modules = [os.path.basename(s)[:-3] for s in ok]
                rlib.import_uses_pycs(python, tree, modules)
                rlib.import_uses_pycs(python, tree, modules, flags=["-OO"])
                print("%d.%d" % lib.python_version(python), json.dumps({k: v for k, v in outcome.items() if v != "ok"}))
                self.assertIn("crlf", modules)
                self.assertIn("bom", modules)

    def test_50_mb_source(self):
        python = lib.target_pythons()[-1]
        tree = os.path.join(self.tmp.name, "huge")
        parts = ['"""A generated module of 50 MiB."""\n',
                 "BLOB = (\n" + "".join("    '%s'\n" % (("%07d" % i) * 9) for i in range(300000)) + ")\n",
                 "".join("def f%d(a, b=%d):\n    return a * b + %d\n" % (i, i, i) for i in range(50000))]
        text = "".join(parts)
        target = 50 * 1024 * 1024
        line = "# " + "x" * 76 + "\n"
        text = parts[0] + line * ((target - len(text) - 1) // len(line)) + "".join(parts[1:])
        text += "#" * (target - len(text) - 1) + "\n"
        huge = rlib.write(os.path.join(tree, "huge.py"), text)
        small = rlib.write(os.path.join(tree, "small.py"), "S = 1\n")
        self.assertEqual(os.path.getsize(huge), 50 * 1024 * 1024)
        stats = os.path.join(self.tmp.name, "stats.json")
        started = time.monotonic()
        result = self.compile(python, tree, "--stats", stats, timeout=600)
        seconds = time.monotonic() - started
        self.assertEqual(result.returncode, 0, rlib.dump(result))
        with open(stats) as f:
            print("50 MiB source: %.1f s; --stats %s" % (seconds, f.read().strip()))
        pyc = lib.expected_paths(python, [huge], [0])[huge][0]
        print("pyc: %.1f MB" % (os.path.getsize(pyc) / 1e6))
        rlib.verify_parallel(python, rlib.expectations_for(python, tree, [huge, small], [0]))
        rlib.import_uses_pycs(python, tree, ["huge"])

        # Over the time limit: reported, the good pyc kept, the small file still compiled.
        before = rlib.snapshot(tree)
        with open(huge, "a") as f:
            f.write("CHANGED = True\n")
        rlib.write(small, "S = 2\n")
        result = self.compile(python, tree, "--timeout", "0.5", timeout=120)
        self.assertEqual(result.returncode, 1, rlib.dump(result))
        self.assertEqual(rlib.error_lines(result.stderr),
                         [huge + ": Timeout: no answer within 0.5 s; the interpreter was killed"])
        self.assertEqual(rlib.snapshot(tree)[pyc], before[pyc])
        rlib.verify_parallel(python, rlib.expectations_for(python, tree, [small], [0]))
        self.assertEqual(rlib.temporaries(tree), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
