"""Report: the audit result as data (`model`) and its renderers (human, json; xlsx/html later).

Renderers never compute: everything they show is already in the `Report`.
"""
