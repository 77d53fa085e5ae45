"""Builders of the hostile tests: diagram code both the sandbox's unit cases
(test_diagram_code.py) and the deployed diagrams (test_diagram_code_deployed.py) run."""

from __future__ import annotations

# The issue's escape: a match class pattern that takes str.format off a string, to read a
# function's globals through a format string.
ISSUE_MATCH_ESCAPE = """s = '{0.__globals__}'
match s:
    case str(format=f):
        r = f(now)"""
# A loop that never ends: only the time and iteration budget stops it.
RUNAWAY = "x = 0\nwhile x >= 0:\n    x += 1"
