"""The offline evaluation suite behind `advisor eval`: datasets, runs, metrics, the gate and the report.

Modules import their heavy libraries (ranx, rouge-score, matplotlib, the embedding model) inside the
functions that need them, so importing this package stays cheap.
"""
