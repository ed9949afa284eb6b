"""How many enrich_one calls wait on pipe0 together: N threads, then N enrich_one_async calls,
against the in-process sandbox with 300 ms latency. Overlap = N x one call's time / wall time;
the sandbox's peak records in flight says how many were open at once.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_overlap.py [N]

Measured on a 2-core machine: 8 threads 7.9x (peak 8); 8 enrich_one_async 7.9x (peak 8), where
asyncio's default executor had given 3.9x (6 workers); 24 of each 23.3x and 23.4x (peak 24).
"""
import asyncio
import sys
import threading
import time

import leadenrich

LATENCY_S = 0.3


def report(label, n, wall, sandbox):
    print(f"{label:>24}: {n} calls in {wall:.3f} s, overlap {n * LATENCY_S / wall:.1f}x, "
          f"peak records in flight {sandbox.counters()['peak_records_in_flight']}")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    with leadenrich.Sandbox(latency_ms=int(LATENCY_S * 1000)) as s:
        enricher = leadenrich.Enricher(s.config)
        threads = [threading.Thread(target=enricher.enrich_one, args=({"lead_id": f"t{i}", "email": f"x@t{i}.io"},))
                   for i in range(n)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report("threads x enrich_one", n, time.monotonic() - start, s)
        del enricher

    with leadenrich.Sandbox(latency_ms=int(LATENCY_S * 1000)) as s:
        enricher = leadenrich.Enricher(s.config)

        async def gather():
            await asyncio.gather(*(enricher.enrich_one_async({"lead_id": f"a{i}", "email": f"x@a{i}.io"})
                                   for i in range(n)))

        start = time.monotonic()
        asyncio.run(gather())
        report("enrich_one_async", n, time.monotonic() - start, s)
        del enricher


if __name__ == "__main__":
    main()
