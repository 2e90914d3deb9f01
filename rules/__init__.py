"""Built-in rule packs (YAML). Installed as the package `finaudit.packs`; this file only marks the
folder as a package so the packs ship with `pip install`."""
