"""Specs of the manifest that fail today, each with the finding it shows. The tests mark them
xfail(strict=True): when a fix lands the test passes unexpectedly and fails, and its line here
is removed. None today: Stripe, Seldon, openSUSE OBS, PeerTube, Stoplight, TomTom and Visma
were the last (see git log)."""
from __future__ import annotations

from typing import Dict

KNOWN: Dict[str, str] = {}
