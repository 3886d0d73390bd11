"""The bzlmod module extension behind `bazel_dep(name = "pycemit")`.

pycemit's own MODULE.bazel uses it; modules that depend on pycemit need nothing from it.
It creates the repositories `pycemit_dependencies()` creates in WORKSPACE mode, except
the Bazel 4 shims (bzlmod takes rules_cc from the registry):

    @pycemit_system_libraries   libcrypto, CLI11, nlohmann-json from the host system
    @pycemit_python_compat      PY_INFO_PROVIDERS, from rules_python
"""

load("//bazel-rules/private:python_compat.bzl", "pycemit_python_compat")
load("//bazel-rules/private:system_libraries.bzl", "pycemit_system_libraries")

def _pycemit_deps_impl(module_ctx):  # buildifier: disable=unused-variable
    pycemit_system_libraries(name = "pycemit_system_libraries")
    pycemit_python_compat(name = "pycemit_python_compat", use_rules_python = True)

pycemit_deps = module_extension(implementation = _pycemit_deps_impl)
