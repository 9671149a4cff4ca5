"""The proxybench task suite: one self-contained module per task (see `benchmark.contract.Task`)."""
