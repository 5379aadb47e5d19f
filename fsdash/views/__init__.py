"""Sections of the pages as plain data (see :mod:`fsdash.views.section`), one module per page.

A section is a function of the warehouse and the filters it depends on, cached per warehouse
version (:mod:`fsdash.cache`): a rerun whose inputs did not change formats nothing, reshapes no
frame and builds no chart. Nothing here imports Streamlit; :func:`fsdash.ui.render` draws a
section on screen, and a printed pack will draw the same sections on paper.
"""
