"""finaudit — audit village ledger spreadsheets against the 村级财务管理制度.

Pipeline: `ingest` (files → canonical ledgers with source rows) → `schemas` (pandera) → `rules`
(YAML-configured audit rules) → `report` (findings, renderers). `finaudit.api` is the entry point;
`finaudit.cli` is a thin shell over it. Importing this package stays cheap (no pandas), so
`finaudit --help` is instant.
"""

__version__ = "0.1.0"
