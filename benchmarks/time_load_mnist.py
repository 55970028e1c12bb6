"""Time loading MNIST from local gzip files.

Loads the 60,000 training images five times from the IDX files found through
``MNISTKIT_DATA`` (or the default data home) and prints the median time.
It never downloads: it fails with a message that says where to put the files.
"""

import statistics
import time

from mnistkit import load_mnist

seconds = []
for _ in range(5):
    start = time.perf_counter()
    train = load_mnist("train", download_if_missing=False)
    seconds.append(time.perf_counter() - start)

print(
    f"loaded {train.data.shape} {train.data.dtype} in a median of "
    f"{statistics.median(seconds):.3f} s (5 runs, min {min(seconds):.3f} s)"
)
