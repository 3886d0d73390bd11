"""WORKSPACE setup for pycemit's Bazel rules.

    local_repository(name = "pycemit", path = "...")        # or http_archive
    load("@pycemit//bazel-rules:repositories.bzl", "pycemit_dependencies")
    pycemit_dependencies()

Under bzlmod, `bazel_dep(name = "pycemit")` does all of this through
`//bazel-rules:extensions.bzl`; nothing needs calling.
"""

load("//bazel-rules/private:native_rules_shim.bzl", "native_rules_shim")
load("//bazel-rules/private:python_compat.bzl", "pycemit_python_compat")
load("//bazel-rules/private:system_libraries.bzl", "pycemit_system_libraries")

def _needs_shims():
    # Debian's bazel-bootstrap reports no version and has no distdir for @rules_cc and
    # @rules_java; released Bazels (4.2.3 included) fetch or embed them themselves.
    return getattr(native, "bazel_version", "") == ""

def pycemit_dependencies(native_rules_shims = None, use_rules_python = None):
    """Defines the repositories pycemit's rules and its cc_binary need, unless already defined.

    Args:
      native_rules_shims: define offline stand-ins for `@rules_cc`, `@rules_java` and
        `@rules_python` (see bazel-rules/private/native_rules_shim.bzl). Default: only under
        a Bazel that reports no version (Debian's bazel-bootstrap 4.2.3), and never for a
        name the WORKSPACE already defines.
      use_rules_python: read rules_python's PyInfo (see python_compat.bzl). Default: when
        the WORKSPACE defines `@rules_python` before this call (or the stand-in is defined).
    """
    if native_rules_shims == None:
        native_rules_shims = _needs_shims()
    if native_rules_shims:
        if not native.existing_rule("rules_cc"):
            native_rules_shim(name = "rules_cc", kind = "cc")
        if not native.existing_rule("rules_java"):
            native_rules_shim(name = "rules_java", kind = "java")
        if not native.existing_rule("rules_python"):
            native_rules_shim(name = "rules_python", kind = "python")

    if not native.existing_rule("pycemit_system_libraries"):
        pycemit_system_libraries(name = "pycemit_system_libraries")

    if use_rules_python == None:
        use_rules_python = native.existing_rule("rules_python") != None
    if not native.existing_rule("pycemit_python_compat"):
        pycemit_python_compat(name = "pycemit_python_compat", use_rules_python = use_rules_python)
