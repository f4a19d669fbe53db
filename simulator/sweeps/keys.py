"""Sweep keys: values as canonical JSON and its digests, which name points and baselines.

A point's id is the digest of its overrides, a baseline's key the digest of its no-campaign
scenario, and a sweep's definition is compared as canonical JSON, so the same sweep resumes in
the same folder.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date


def jsonable(value):
    """Overrides as JSON values (dates as ISO text)."""
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_json(obj) -> str:
    """Canonical JSON text (sorted keys) for hashing and comparing definitions."""
    return json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=True)


def digest(obj, n: int = 16) -> str:
    """Short SHA-256 of an object's canonical JSON."""
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()[:n]
