"""Locating and reading the detector's data files (YAML), cached per process."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(os.environ.get("PEIBAN_SAFETY_DATA", Path(__file__).with_name("data")))


@functools.lru_cache(maxsize=None)
def load_yaml(name: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(DATA_DIR / name, encoding="utf-8") as f:
        return yaml.load(f, Loader=loader)
