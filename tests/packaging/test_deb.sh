#!/usr/bin/env bash
# The .deb: builds it with the project's CPack configuration, checks its
# Depends (from dpkg-shlibdeps) names a package for every library its
# binaries load and that each is installed here, installs it with dpkg,
# uses what it installed (genrescope --version, man -w genrescope, lv2ls,
# pkg-config and a program built against the library), removes it with
# dpkg and checks nothing is left.
#
# Why a root in a temp dir and not the live system: tests run as root and
# may write only inside a directory they made themselves, so dpkg works on
# $T/root with its own database (--root), never on /usr or /var/lib/dpkg.
# Consequences, handled below: the empty database knows no libc6 etc., so
# Depends is checked against the live system's database explicitly and the
# install uses --force-depends; maintainer scripts cannot run chrooted into
# a root without a shell, so they run chrootless, and only after checking
# that they do nothing but call ldconfig, which is a stub on PATH that
# records the call (the real one would rewrite /etc/ld.so.cache).
#
# The package's files are staged by the build tree's own install scripts
# (cmake_install.cmake, the same rules `cmake --install` and `cpack` use),
# with the install manifest redirected into $T: run as is, cpack would
# rebuild the tree (its preinstall step) and `cmake --install` would write
# install_manifest.txt into it.
#   test_deb.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: test_deb.sh BUILD_DIR}
for tool in cpack dpkg dpkg-deb dpkg-query dpkg-shlibdeps file readelf man lv2ls pkg-config cc; do
    command -v "$tool" > /dev/null || { echo "SKIP: $tool not installed (scripts/install-deps.sh --test)"; exit 77; }
done
T=$(mktemp -d "${GS_TEST_TMP:-/tmp}/test_deb.XXXXXX")
failures=0
checks=0
check() { # check DESCRIPTION COMMAND...
    checks=$((checks + 1))
    if ! "${@:2}"; then failures=$((failures + 1)); echo "FAILED: $1" >&2; fi
}
eq_out() { # eq_out EXPECTED COMMAND...: the command prints exactly EXPECTED
    local got
    got=$("${@:2}" 2>&1)
    [ "$got" = "$1" ] || { echo "  expected '$1', got '$got'" >&2; return 1; }
}

# ---- build the package -----------------------------------------------------
sed "s|\"$build/\${CMAKE_INSTALL_MANIFEST}\"|\"$T/\${CMAKE_INSTALL_MANIFEST}\"|" \
    "$build/cmake_install.cmake" > "$T/cmake_install.cmake"
if grep -q "\"$build/\${CMAKE_INSTALL_MANIFEST}\"" "$T/cmake_install.cmake" ||
   ! grep -q "\"$T/\${CMAKE_INSTALL_MANIFEST}\"" "$T/cmake_install.cmake"; then
    echo "FAIL: could not redirect the install manifest"; exit 1
fi
cat > "$T/CPackConfig.cmake" <<EOF
include("$build/CPackConfig.cmake")
set(CPACK_INSTALL_CMAKE_PROJECTS "")
set(CPACK_INSTALL_SCRIPTS "$T/cmake_install.cmake")
set(CPACK_INSTALL_PREFIX "\${CPACK_PACKAGING_INSTALL_PREFIX}")
EOF
(cd "$T" && nice cpack -G DEB -B "$T/out" --config "$T/CPackConfig.cmake") > "$T/cpack.log" 2>&1 ||
    { tail -20 "$T/cpack.log"; echo "FAIL: cpack"; exit 1; }
debs=("$T"/out/genrescope_*.deb)
deb=${debs[0]}
check "cpack made one .deb" test "${#debs[@]}" -eq 1 -a -f "$deb"
echo "package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"

# ---- contents --------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' > "$T/contents"
for f in /usr/bin/genrescope /usr/bin/genrescope-train /usr/lib/libgenrescope.a \
         /usr/include/genrescope.h /usr/include/genrescope/model.h /usr/lib/pkgconfig/genrescope.pc \
         /usr/lib/genrescope/genrescope_sqlite.so \
         /usr/lib/lv2/genrescope.lv2/manifest.ttl /usr/lib/lv2/genrescope.lv2/genrescope.ttl \
         /usr/lib/lv2/genrescope.lv2/genrescope.so /usr/lib/lv2/genrescope.lv2/model.safetensors \
         /usr/share/man/man1/genrescope.1 /usr/share/man/man1/genrescope-train.1 \
         /usr/share/man/man5/genrescope.5 /usr/share/bash-completion/completions/genrescope \
         /usr/share/zsh/vendor-completions/_genrescope /usr/share/doc/genrescope/README.md \
         /usr/share/doc/genrescope/docs/tagger.md /usr/share/doc/genrescope/examples/genres.conf; do
    check "the package has $f" grep -qx "$f" "$T/contents"
done
check "nothing outside /usr" bash -c "! grep -v '^/usr\(/\|$\)' '$T/contents' | grep -qv '^/$'"

# ---- Depends ---------------------------------------------------------------
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
check "Depends is not empty" test -n "$depends"
# Each clause ("a (>= 1) | b") must be satisfied by a package installed on
# this machine, at a version the clause accepts.
satisfied() {
    local clause=$1 alt name op ver have status
    IFS='|' read -ra alts <<< "$clause"
    for alt in "${alts[@]}"; do
        read -r name op ver <<< "$(sed -E 's/^ *([^ (]+) *(\(([<>=]+) *([^)]+)\))? *$/\1 \3 \4/' <<< "$alt")"
        status=$(dpkg-query -W -f='${db:Status-Status}' "$name" 2>/dev/null | head -1)
        [ "$status" = installed ] || continue
        have=$(dpkg-query -W -f='${Version}' "$name" | head -1)
        [ -z "$op" ] && return 0
        dpkg --compare-versions "$have" "$op" "$ver" && return 0
    done
    echo "  unsatisfied here: $clause" >&2
    return 1
}
IFS=',' read -ra clauses <<< "$depends"
for c in "${clauses[@]}"; do
    check "dependency '$c' is installed here" satisfied "$c"
done
# Every library an ELF file of the package loads belongs to a package that
# Depends names (shlibdeps found them all), or that one of those depends on
# (libopenblas0 is the interface, libopenblas0-pthread the implementation
# installed; libtag1v5 pulls libtag1v5-vanilla).
mkdir "$T/x"
dpkg-deb -x "$deb" "$T/x"
deps_names=$(tr ',|' '\n\n' <<< "$depends" | sed -E 's/^ *([^ (]+).*/\1/' | sort -u)
for d in $deps_names; do
    dpkg-query -W -f='${Depends}, ${Pre-Depends}\n' "$d" 2>/dev/null
done | tr ',|' '\n\n' | sed -E 's/^ *([^ (:]+).*/\1/' | grep -v '^$' > "$T/pulled"
deps_closure=$( (echo "$deps_names"; cat "$T/pulled") | sort -u)
while IFS= read -r elf; do
    for soname in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        lib=$(ldconfig -p | awk -v s="$soname" '$1 == s && /x86-64|64bit|,/ {print $NF; exit}')
        [ -n "$lib" ] || lib=$(ldconfig -p | awk -v s="$soname" '$1 == s {print $NF; exit}')
        if [ -z "$lib" ]; then
            check "$soname (needed by ${elf#$T/x}) is found" false
            continue
        fi
        owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
        [ -n "$owner" ] || owner=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1)
        check "$soname (${elf#$T/x}) comes from $owner, which Depends brings" \
            grep -qx "$owner" <<< "$deps_closure"
    done
done < <(find "$T/x" -type f -exec sh -c 'file -b "$1" | grep -q "^ELF"' _ {} \; -print)

# ---- install into the root -------------------------------------------------
R="$T/root"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$T/stub"
touch "$R/var/lib/dpkg/status" "$R/var/lib/dpkg/available"
find "$R" -mindepth 1 | sort > "$T/before"
# The maintainer scripts run chrootless: only those that merely call
# ldconfig are allowed (the call goes to the stub).
mkdir "$T/ctl"
dpkg-deb -e "$deb" "$T/ctl"
scripts_ok=1
for s in preinst postinst prerm postrm; do
    [ -f "$T/ctl/$s" ] || continue
    bash -c \
        "! grep -v -e '^#!/bin/sh\$' -e '^\$' -e '^set -e\$' -e '^if \[ \"\$1\" = \"\(configure\|remove\)\" \]; then\$' -e '^	ldconfig\$' -e '^fi\$' '$T/ctl/$s'" ||
        scripts_ok=0
done
check "the maintainer scripts only call ldconfig" test "$scripts_ok" -eq 1
[ "$scripts_ok" -eq 1 ] || { echo "FAIL: unexpected maintainer scripts: not installing"; exit 1; }
printf '#!/bin/sh\necho ldconfig "$@" >> "%s/ldconfig.log"\n' "$T" > "$T/stub/ldconfig"
chmod +x "$T/stub/ldconfig"
dpkg_root() { PATH="$T/stub:$PATH" dpkg --root="$R" --log="$T/dpkg.log" --force-script-chrootless "$@"; }
dpkg_root --force-depends -i "$deb" > "$T/install.log" 2>&1
check "dpkg -i into the root" test $? -eq 0
check "dpkg knows it installed" bash -c "dpkg --root='$R' -s genrescope 2>/dev/null | grep -q '^Status: install ok installed'"
dpkg --root="$R" -L genrescope > "$T/listed"
check "every file of the package is in the root" \
    bash -c "while read -r f; do [ -e '$R'\"\$f\" ] || [ -L '$R'\"\$f\" ] || { echo \"  missing \$f\"; exit 1; }; done < '$T/contents'"

# ---- use it ----------------------------------------------------------------
check "genrescope --version" grep -Eqx 'genrescope [0-9.]+' <("$R/usr/bin/genrescope" --version)
check "genrescope-train --version" grep -q 'genrescope-train' <("$R/usr/bin/genrescope-train" --version)
check "man -w genrescope" eq_out "$R/usr/share/man/man1/genrescope.1" man -M "$R/usr/share/man" -w genrescope
check "man -w 5 genrescope" eq_out "$R/usr/share/man/man5/genrescope.5" man -M "$R/usr/share/man" -w 5 genrescope
check "man -w genrescope-train" eq_out "$R/usr/share/man/man1/genrescope-train.1" man -M "$R/usr/share/man" -w genrescope-train
check "lv2ls lists the plugins" bash -c "LV2_PATH='$R/usr/lib/lv2' lv2ls | grep -q genrescope"
# The pkg-config file describes where it was installed; a program builds
# against the installed header and library and loads the built-in model.
cat > "$T/use.c" <<'EOF'
#include <genrescope.h>
#include <stdio.h>
int main(void)
{
    gs_error err;
    gs_model *m = gs_model_load_default(&err);
    if (!m)
        return 1;
    printf("%s %d\n", GENRESCOPE_VERSION, gs_model_num_labels(m));
    gs_model_free(m);
    return 0;
}
EOF
pc="env PKG_CONFIG_PATH=$R/usr/lib/pkgconfig pkg-config"
check "pkg-config finds the installed headers" grep -q -- "-I$R/usr/lib/pkgconfig/../../include" <($pc --cflags genrescope)
cc -o "$T/use" "$T/use.c" $($pc --cflags genrescope) $($pc --libs genrescope) 2> "$T/cc.log"
check "a program builds against the installed library" test $? -eq 0
check "...and runs" grep -Eq '^[0-9.]+ [0-9]+$' <("$T/use" 2>/dev/null)

# ---- remove ----------------------------------------------------------------
dpkg_root --purge genrescope > "$T/purge.log" 2>&1
check "dpkg --purge" test $? -eq 0
check "the maintainer scripts ran (install and removal)" eq_out "ldconfig
ldconfig" cat "$T/ldconfig.log"
# Nothing left but dpkg's own database.
find "$R" -mindepth 1 -not -path "$R/var/lib/dpkg/*" | sort > "$T/after"
check "nothing left behind in the root" bash -c "diff <(grep -v '^$R/var/lib/dpkg/' '$T/before') '$T/after'"
check "dpkg forgot it" bash -c "! dpkg --root='$R' -s genrescope > /dev/null 2>&1"
check "nothing of it in dpkg's database" bash -c "! ls '$R/var/lib/dpkg/info' | grep -q genrescope"

echo "test_deb: $checks checks, $failures failed"
[ "$failures" -eq 0 ] && rm -rf "$T"
[ "$failures" -eq 0 ]
