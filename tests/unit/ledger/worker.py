"""A separate process that uses the ledger (run as a script by the ledger tests).

    worker.py reserve DB COUNT AMOUNT   print 'ready', wait for a line on stdin, reserve COUNT times,
                                        print {"ok": [...ids], "refused": n} as JSON
    worker.py crash DB TX VALID_BEFORE  reserve, mark_sent, print the id, then block until killed
    worker.py scoped DB SCOPE BUDGET COUNT AMOUNT   as 'reserve', in budget scope SCOPE with an
                                        object budget BUDGET (base units, or 'none')
"""

from __future__ import annotations

import json
import sys

from support import PAYER, intent  # run as a script: this directory is sys.path[0]

from grok_mpp.errors import BudgetExceededError
from grok_mpp.ledger import Budget, open_ledger


def main(argv: list[str]) -> int:
    mode, db = argv[0], argv[1]
    if mode == "scoped":
        scope, limit = argv[2], argv[3]
        ledger = open_ledger(db, scope=scope, budget=None if limit == "none" else Budget(total=int(limit)))
        mode, argv = "reserve", [mode, db, *argv[4:]]
    else:
        ledger = open_ledger(db)
    if mode == "reserve":
        count, amount = int(argv[2]), int(argv[3])
        print("ready", flush=True)
        sys.stdin.readline()
        ok, refused = [], 0
        for n in range(count):
            try:
                ok.append(ledger.reserve(intent(amount, n=n)))
            except BudgetExceededError:
                refused += 1
        print(json.dumps({"ok": ok, "refused": refused}), flush=True)
        return 0
    if mode == "crash":
        rid = ledger.reserve(intent(7_000, n=1))
        ledger.mark_sent(rid, tx_hash=argv[2], valid_before=int(argv[3]), payer=PAYER)
        print(rid, flush=True)
        sys.stdin.readline()  # "waiting for the gateway's answer": the parent kills us here
        return 1
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
