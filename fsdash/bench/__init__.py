"""The benchmark (``python -m fsdash bench``): how fast the dashboard answers, measured as it runs.

The old benchmark timed a hand-picked list of queries on a connection the app never has. This one
measures what a viewer waits for, on warehouses of three sizes built by the project's own demo path
(:mod:`fsdash.bench.warehouses`):

* every page of the routes table rendered through the real frame, cold and warm, at national,
  département and site scope (:mod:`fsdash.bench.pages`);
* every sidebar filter change on the home and Fréquentation pages, first asked and asked again;
* every query those pages made, replayed as the app runs it on a cache miss, on the pooled reader
  (:mod:`fsdash.bench.queries`);
* ingest as a user runs it — one quarter, one year, a ten-year backfill, in Parquet and French CSV, and
  a wholly rejected quarter — each load a child process, its wall time and peak memory
  (:mod:`fsdash.bench.ingest`), beside a pandas baseline of three page queries (:mod:`fsdash.bench.baseline`);

then writes ``benchmarks/results.json`` and ``BENCHMARKS.md`` with the targets of the « Pages
instantanées » issue and of issue 10 (ingest), and whether each is met (:mod:`fsdash.bench.report`). Never a timed assertion
in the tests: ``tests/test_bench.py`` only checks that the machinery runs and writes its files.

Nothing is imported here, so that building the command line stays cheap (:mod:`fsdash.bench.run`).
"""
