"""Metric queries: pure functions of (connection, scope, parameters) returning Polars frames.

They never import Streamlit, so they are tested on small hand-made warehouses with known
answers, and the summary command, the pages and the exports all read the same numbers.
"""
