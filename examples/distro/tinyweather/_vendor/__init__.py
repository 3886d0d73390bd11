# Third-party code vendored as is. py2compat.py is Python 2 only and never
# imported by Python 3: no Python 3 compiles it (pycemit's --on-error policy).
