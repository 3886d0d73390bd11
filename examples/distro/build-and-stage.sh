#!/usr/bin/env bash
# Stages the tinyweather package the way a distribution build does, byte-compiles
# it with pycemit as the packaging post-install step, installs it, and verifies it.
# It is the runnable companion of docs/packaging.md.
#
# Usage: examples/distro/build-and-stage.sh [WORKDIR]
#   PYTHON   target interpreter (default: python3); CPython 3.8 or later
#   PYCEMIT  pycemit binary (default: pycemit on PATH, else build/pycemit)
#   WORKDIR  an empty or missing directory for everything written (default: a new
#            temporary directory); it is left in place for inspection.
#
# Two packages are built, each in its own buildroot and installed on its own
# "system":
#   rpm   pycs in __pycache__ beside the sources, as Fedora ships them;
#   deb   pycs in a run-time pycache prefix tree (/var/cache/pyc), for a
#         read-only /usr: the interpreter runs with -X pycache_prefix=/var/cache/pyc
#         (or PYTHONPYCACHEPREFIX).
#
# Nothing here writes outside WORKDIR. A real install goes to /, which a script
# that must leave the machine clean cannot write: "$WORK/<variant>/system root"
# stands for /. Every run-time path below (site-packages, /var/cache/pyc) is
# therefore "$system/usr/...", exactly as "/usr/..." would be on a real system,
# and the buildroot holds the package at "$buildroot$system/usr/...".
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python3}
PYCEMIT=${PYCEMIT:-$(command -v pycemit || echo "$here/../../build/pycemit")}
WORK=${1:-$(mktemp -d "${TMPDIR:-/tmp}/pycemit distro.XXXXXX")}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

pyver=$("$PYTHON" -S -c 'import sys; print("%d.%d" % sys.version_info[:2])')
dist=tinyweather-1.0.dist-info
say() { printf '\n== %s\n' "$*"; }

# ---------------------------------------------------------------------------
# 1. The install step (RPM %install, Debian override_dh_auto_install): copy the
#    package into the buildroot at its run-time path, and write its .dist-info
#    with a RECORD the way a wheel installer does (pip --root, python -m installer
#    --destdir). Nothing is byte-compiled here (pip --no-compile,
#    installer --no-compile-bytecode): that is pycemit's job.
# ---------------------------------------------------------------------------
install_step() {  # install_step BUILDROOT SITE
  local buildroot=$1 site=$2
  mkdir -p "$buildroot$site"
  cp -R "$here/tinyweather" "$buildroot$site/"
  find "$buildroot$site" -name __pycache__ -prune -exec rm -rf {} +  # never ship stray caches
  "$PYTHON" -S - "$buildroot$site" "$dist" <<'EOF'
import base64, csv, hashlib, os, sys
site, dist = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(site, dist), exist_ok=True)
with open(os.path.join(site, dist, "METADATA"), "w") as f:
    f.write("Metadata-Version: 2.1\nName: tinyweather\nVersion: 1.0\n")
with open(os.path.join(site, dist, "INSTALLER"), "w") as f:
    f.write("build-and-stage.sh\n")
rows = []
for top in ("tinyweather", dist):
    for directory, dirs, files in os.walk(os.path.join(site, top)):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(directory, name)
            data = open(path, "rb").read()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            rows.append([os.path.relpath(path, site), "sha256=" + digest, len(data)])
rows.append([dist + "/RECORD", "", ""])
with open(os.path.join(site, dist, "RECORD"), "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
EOF
}

# ---------------------------------------------------------------------------
# 2. The byte-compilation step, where Fedora's brp-python-bytecompile (compileall
#    -s $BUILDROOT -p / --hardlink-dupes) and add-determinism would run:
#      --root            the staging root: pycs are written under it at their
#                        run-time path, and embed the run-time source path;
#      -O 0 -O 1         what `python` and `python -O` load;
#      --hardlink-dupes  one file where both levels are identical;
#      --on-error warn   the vendored Python 2 file is reported, not fatal;
#      --manifest        JSON list of every pyc (for the build log / file list);
#      --record          the pycs are added to the wheel RECORD, with hashes.
#    The pycs are checked-hash (pycemit's default): reproducible, and still
#    correct if an administrator edits a source after installation.
# ---------------------------------------------------------------------------
compile_step() {  # compile_step BUILDROOT SITE MANIFEST [layout options...]
  local buildroot=$1 site=$2 manifest=$3
  shift 3
  "$PYCEMIT" compile --python "$PYTHON" --root "$buildroot" "$@" \
    -O 0 -O 1 --hardlink-dupes --on-error warn \
    --manifest "$manifest" --record "$buildroot$site/$dist/RECORD" \
    "$buildroot$site/tinyweather"
}

# ---------------------------------------------------------------------------
# 3. Checks on the buildroot, before it is packed (RPM %check, dh_auto_test).
# ---------------------------------------------------------------------------
verify_buildroot() {  # verify_buildroot BUILDROOT SITE MANIFEST [layout options...]
  local buildroot=$1 site=$2 manifest=$3
  shift 3
  # Every source has current, canonical pycs for both levels and nothing is
  # orphaned. The file --on-error skipped (named in the manifest) is excluded.
  local excludes=()
  while IFS= read -r skipped; do excludes+=(--exclude "$(basename "$skipped")"); done < <(
    "$PYTHON" -S -c 'import json, sys; [print(s["source"]) for s in json.load(open(sys.argv[1]))["skipped"]]' "$manifest")
  echo "skipped by --on-error: ${excludes[*]:-(none)}"
  "$PYCEMIT" check --python "$PYTHON" --root "$buildroot" "$@" -O 0 -O 1 "${excludes[@]}" \
    "$buildroot$site/tinyweather"

  # The RECORD lists every file with its hash, as pip and installer verify it.
  "$PYTHON" -S - "$buildroot$site" "$buildroot$site/$dist/RECORD" <<'EOF'
import base64, csv, hashlib, os, sys
site, record = sys.argv[1], sys.argv[2]
rows = list(csv.reader(open(record, newline="")))
pycs = 0
for path, digest, size in rows:
    if not digest:
        continue
    data = open(os.path.normpath(os.path.join(site, path)), "rb").read()
    want = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    assert digest == want and int(size) == len(data), "RECORD is wrong for " + path
    pycs += path.endswith(".pyc")
assert rows[-1][0].endswith("/RECORD"), "RECORD's own line must stay last"
print("RECORD: %d lines verified, %d of them pycs" % (len(rows) - 1, pycs))
EOF

  # The staging root is embedded nowhere (reproducible-builds would flag it).
  if find "$buildroot" -name '*.pyc' -exec grep -lF "$buildroot" {} + ; then
    echo "error: the staging root is embedded in the pycs above" >&2
    return 1
  fi
  echo "hardlinked pycs: $(find "$buildroot" -name '*.pyc' -links +1 | wc -l)"
}

# ---------------------------------------------------------------------------
# 4. Install (rpm -i / dpkg -i): the buildroot's tree goes to /, here to the
#    directory that stands for it. Then import the package with the interpreter
#    as a user would, and prove every module's code came from a shipped pyc.
# ---------------------------------------------------------------------------
install_on_system() {  # install_on_system BUILDROOT SYSTEM
  mkdir -p "$2"
  cp -a "$1$2/." "$2/"
}

import_and_verify() {  # import_and_verify SITE EXPECTED_PYC_DIR [interpreter flags...]
  local site=$1 pyc_dir=$2
  shift 2
  local log="$WORK/import.log"
  # -B: the interpreter writes nothing, so a pyc it rejected cannot be replaced
  # quietly; --check-hash-based-pycs always: every hash is checked; -v: it says
  # where each module's code object came from.
  "$PYTHON" -S -B -v --check-hash-based-pycs always "$@" -c '
import sys
sys.path.insert(0, sys.argv[1])
import tinyweather, tinyweather.oldapi
print("   ", tinyweather.summary("F"))' "$site" 2> "$log"
  local from_pyc from_source
  from_pyc=$(grep -F "# code object from '$pyc_dir/" "$log" | grep -c "\.pyc'$" || true)
  from_source=$(grep "^# code object from .*tinyweather.*\.py'$" "$log" || true)
  if [ "$from_pyc" -ne 4 ] || [ -n "$from_source" ] || grep -q "bytecode is stale" "$log"; then
    echo "error: tinyweather was not loaded from its pycs under $pyc_dir (flags: $*):" >&2
    grep -E "code object from|stale|matches" "$log" >&2 || true
    return 1
  fi
  echo "    $from_pyc modules loaded from pycs under $pyc_dir (flags: ${*:-none})"
}

# ---------------------------------------------------------------------------
# 5. Later: an upgrade removed oldapi.py, but its pycs stayed (as happens when
#    pycs are generated on the machine, Debian-style). check finds them; prune
#    removes them, and never sourceless pycs unless asked (--sourceless).
# ---------------------------------------------------------------------------
upgrade_and_prune() {  # upgrade_and_prune SITE [layout options...]
  local site=$1
  shift
  rm "$site/tinyweather/oldapi.py"
  if "$PYCEMIT" check -q --python "$PYTHON" --root / "$@" -O 0 -O 1 --exclude py2compat.py "$site/tinyweather"; then
    echo "error: check missed the orphaned pycs" >&2
    return 1
  fi
  "$PYCEMIT" prune --root / "$@" "$site/tinyweather"
  "$PYCEMIT" check --python "$PYTHON" --root / "$@" -O 0 -O 1 --exclude py2compat.py "$site/tinyweather"
}

# ---------------------------------------------------------------------------
# The two packages.
# ---------------------------------------------------------------------------
echo "target: $("$PYCEMIT" info --python "$PYTHON")"
echo "work directory: $WORK"

for variant in rpm deb; do
  system="$WORK/$variant/system root"              # stands for /
  site="$system/usr/lib/python$pyver/site-packages" # %{python3_sitelib}
  buildroot="$WORK/$variant/build root"            # $RPM_BUILD_ROOT, debian/tinyweather
  manifest="$WORK/$variant/pycs.json"
  layout=()
  pyc_dir="$site/tinyweather/__pycache__"
  run_flags=()
  if [ "$variant" = deb ]; then
    prefix="$system/var/cache/pyc"                # /var/cache/pyc on a real system
    layout=(--layout prefix --pycache-prefix "$prefix")
    pyc_dir="$prefix$site/tinyweather"
    run_flags=(-X "pycache_prefix=$prefix")
  fi

  say "$variant: install step into $buildroot"
  install_step "$buildroot" "$site"

  say "$variant: byte-compile with pycemit ${layout[*]:-}"
  compile_step "$buildroot" "$site" "$manifest" "${layout[@]}"

  say "$variant: verify the buildroot"
  verify_buildroot "$buildroot" "$site" "$manifest" "${layout[@]}"

  say "$variant: a rebuild in another buildroot gives the same bytes"
  rebuild="$WORK/$variant/rebuild root"
  install_step "$rebuild" "$site"
  compile_step "$rebuild" "$site" "$WORK/$variant/rebuild.json" "${layout[@]}" 2> /dev/null
  (cd "$buildroot" && find . -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum) > "$WORK/$variant/pycs.sha256"
  (cd "$rebuild" && sha256sum --quiet -c "$WORK/$variant/pycs.sha256")
  echo "$(wc -l < "$WORK/$variant/pycs.sha256") pycs identical"

  say "$variant: install and import"
  install_on_system "$buildroot" "$system"
  import_and_verify "$site" "$pyc_dir" "${run_flags[@]}"
  import_and_verify "$site" "$pyc_dir" "${run_flags[@]}" -O

  say "$variant: upgrade, check and prune"
  upgrade_and_prune "$site" "${layout[@]}"
done

say "OK: both packages verified; everything is in $WORK"
