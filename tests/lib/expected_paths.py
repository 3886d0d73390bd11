"""Prints where the running interpreter's importlib looks for each source's pyc.

Reads JSON {"sources": [...], "levels": [...], "prefix": null | "/dir"} on stdin;
prints {source: {level: path}} computed by importlib.util.cache_from_source
(with sys.pycache_prefix set to "prefix"). Runs inside the target interpreter.
"""
import importlib.util
import json
import sys

request = json.load(sys.stdin)
sys.pycache_prefix = request["prefix"]
result = {}
for source in request["sources"]:
    result[source] = {
        str(level): importlib.util.cache_from_source(source, optimization=level if level else "")
        for level in request["levels"]
    }
json.dump(result, sys.stdout)
