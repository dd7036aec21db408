"""Bundled data: the seed graph, reference data and source texts, found beside this module when installed."""

from pathlib import Path

DATA_DIR = Path(__file__).parent
SEED_DIR = DATA_DIR / "seed"
REFERENCE_DIR = DATA_DIR / "reference"
SOURCES_DIR = DATA_DIR / "sources"

__all__ = ["DATA_DIR", "REFERENCE_DIR", "SEED_DIR", "SOURCES_DIR"]
