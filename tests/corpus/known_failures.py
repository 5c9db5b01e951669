"""Specs of the manifest that fail today, each with the finding it shows
(/work/briefs17/corpus-findings.md has the details). The tests mark them xfail(strict=True):
when a fix lands the test passes unexpectedly and fails, and its line here is removed."""
from __future__ import annotations

KNOWN = {
    "api/cpy.re/peertube.json":
        "404 for an operation with a partial-segment parameter (route)",
    "api/stoplight.io.json":
        "404 for an operation with a partial-segment parameter (route)",
    "api/tomtom.com/maps.json":
        "a duplicate route: its second operation answers as the first one (route)",
    "api/visma.com.json":
        "a duplicate route: its second operation answers as the first one (route)",
}
