"""The check families of a run, one module each: what a family reads, computes and reports.

The runner (engine/runner.py) settles the columns and the plan, then hands each family its units
of work (a column's drift, an attribute's fairness, the quality scan, ...) and, once they are
computed, asks it for the results of each of its checks. The computations themselves live in the
engine's modules of the same names (engine/drift.py, engine/performance.py, ...); a family only
reads the columns, calls them and shapes the results.
"""
