#!/usr/bin/env python3
"""The shared library exports its API and nothing else.

The dynamic symbols libgenrescope.so defines are exactly the functions the
installed headers declare with GS_API, and every function those headers
declare (other than static inline ones) has GS_API. So an internal function
cannot leak (gs_model_parse_header, gs_wino_* and the architecture
description were exported before -fvisibility=hidden), and a public one
cannot be declared and then not exported.

usage: test_exports.py LIBRARY.so INCLUDE_DIR
"""
import os
import re
import shutil
import subprocess
import sys


def declarations(include_dir):
    """(name, has_gs_api, file) for each file-scope function declaration."""
    decl = re.compile(r"^(?!typedef|#|static)(GS_API\s+)?[A-Za-z_][\w \t\*]*?\b(gs_\w+)\s*\(",
                      re.MULTILINE)
    found = []
    for root, _, files in os.walk(include_dir):
        for f in sorted(files):
            if not f.endswith(".h"):
                continue
            path = os.path.join(root, f)
            text = open(path).read()
            text = re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL)
            text = re.sub(r"//[^\n]*", " ", text)
            for m in decl.finditer(text):
                found.append((m.group(2), bool(m.group(1)), os.path.relpath(path, include_dir)))
    return found


def exported(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True, capture_output=True,
                         text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] not in ("_init", "_fini"):
            names.add(parts[2].split("@")[0])
    return names


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    if not shutil.which("nm"):
        print("SKIP: nm not installed")
        return 77
    lib, include_dir = sys.argv[1], sys.argv[2]
    decls = declarations(include_dir)
    api = {name for name, has_api, _ in decls if has_api}
    failures = []
    for name, has_api, path in decls:
        if not has_api:
            failures.append(f"{path}: {name} is declared without GS_API")
    syms = exported(lib)
    for name in sorted(syms - api):
        failures.append(f"{os.path.basename(lib)} exports {name}, which no installed header "
                        "declares with GS_API")
    for name in sorted(api - syms):
        failures.append(f"{name} is declared GS_API but {os.path.basename(lib)} does not export it")
    # The internals this check was written for, named so a regression says so.
    for name in sorted(syms):
        if re.match(r"gs_(wino_|net_desc_|model_parse_|im2col|conv2d_|layer_op_|default_model_)", name):
            failures.append(f"internal symbol {name} is exported")
    if len(api) < 50:
        failures.append(f"only {len(api)} GS_API declarations found under {include_dir}: "
                        "the header scan is broken")
    for f in failures:
        print("FAIL:", f)
    print(f"test_exports: {len(syms)} exported, {len(api)} declared GS_API, "
          f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
