"""The worker process: reads one JSON request per line on stdin, answers one JSON verdict per line.

Started by :mod:`evaluators.verify.pool` with ``TRITON_INTERPRET=1`` for the cpu device. The
protocol uses a private copy of the original stdout; the candidate's own prints go to stderr.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    # Imported before any candidate, so the timing functions it keeps are the real ones.
    from tuneforge.evaluators.verify.harness import run_request
    from tuneforge.evaluators.verify.plan import VerifyRequest

    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        verdict = run_request(VerifyRequest.from_dict(json.loads(line)))
        protocol.write(json.dumps(verdict.to_dict()) + "\n")
        protocol.flush()


if __name__ == "__main__":
    main()
