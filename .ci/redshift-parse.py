"""Parses Redshift statements with sqlfluff's redshift dialect (Debian's python3-sqlfluff).

Reads a JSON list of statements from the file named by the first argument and writes a JSON list
of [ok, problem] to standard output, one per statement, in order.
"""
import json
import sys
from multiprocessing import Pool

from sqlfluff.core import FluffConfig, Linter

_linter = None


def parse(sql):
    global _linter
    if _linter is None:
        _linter = Linter(config=FluffConfig(overrides={"dialect": "redshift"}))
    parsed = _linter.parse_string(sql)
    problems = [v.desc() if hasattr(v, "desc") else str(v) for v in parsed.violations]
    return [not problems, "; ".join(problems)[:500]]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        statements = json.load(f)
    with Pool(2) as pool:
        json.dump(pool.map(parse, statements, chunksize=4), sys.stdout)
