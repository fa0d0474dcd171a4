"""pytest-benchmark, fed with harness-measured timings; the pytest-xdist merge of several workers."""
