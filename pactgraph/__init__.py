"""pactgraph: an open knowledge graph of states, leaders and the agreements between them.

The subpackages are the repository's root folders (`graph/`, `api/`, `ontology/`, `data/`),
installed under this one name by pyproject's package-dir mapping; in a source checkout the
links beside this file point to them, so tests and type checks import what the wheel installs.
"""

__version__ = "0.1.0"
