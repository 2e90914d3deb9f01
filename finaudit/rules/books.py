"""books rules: filled in by the whole-village audit work (issue 4)."""

RULES = ()
