#!/usr/bin/env python3
"""Counts individual test cases from meson's testlog.json files (one or more).

A GoogleTest binary counts each of its cases; any other test counts once.
A binary that failed without reporting a failed case (crash, timeout) counts
as one more failure. Prints per-failure lines, the skipped count, then "N passed, N failed".
Exit status 1 when anything failed or nothing ran.
"""
import json
import re
import sys

OK = re.compile(r"^\[       OK \] (\S+) \(\d+ ms\)", re.M)
FAILED = re.compile(r"^\[  FAILED  \] (\S+)(?:, where .*)? \(\d+ ms\)", re.M)
SKIPPED = re.compile(r"^\[  SKIPPED \] (\S+) \(\d+ ms\)", re.M)

passed = failed = skipped = 0
failures = []
lines = []
for path in sys.argv[1:]:
    with open(path) as f:
        lines += f.readlines()
for line in lines:
    t = json.loads(line)
    out = t.get("stdout") or ""
    result = t["result"]
    if "[ RUN      ]" in out:
        ok = OK.findall(out)
        bad = FAILED.findall(out)
        sk = SKIPPED.findall(out)
        passed += len(ok)
        failed += len(bad)
        skipped += len(sk)
        failures += [f"{t['name']}: {n}" for n in bad]
        if result not in ("OK", "SKIP", "EXPECTEDFAIL") and not bad:
            failed += 1
            failures.append(f"{t['name']}: {result} (exit {t.get('returncode')})")
    elif result in ("OK", "EXPECTEDFAIL"):
        passed += 1
    elif result == "SKIP":
        skipped += 1
    else:
        failed += 1
        failures.append(f"{t['name']}: {result} (exit {t.get('returncode')})")

for f in failures:
    print(f"FAILED {f}")
print(f"{skipped} skipped")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
