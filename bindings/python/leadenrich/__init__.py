"""leadenrich: turns raw B2B sales leads into outreach-ready lead objects.

    import leadenrich
    with leadenrich.Sandbox() as sandbox:
        lead = leadenrich.Enricher(sandbox.config).enrich_one({"lead_id": "1", "email": "jane@acme.com"})
"""
import asyncio
import concurrent.futures
import threading
from typing import Any, Dict, Iterable, Optional

from ._errors import (AuthenticationError, CancelledError, ConfigurationError, Error, InvalidInputError,
                      NotFoundError, RateLimitError, StoreError, UnavailableError)
from ._leadenrich import AturiyaClient, Config, EnrichedLead, Enricher, RawLead, Store, __version__, open_store
from ._leadenrich import _Sandbox

__all__ = [
    "AturiyaClient", "Config", "EnrichedLead", "Enricher", "RawLead", "Sandbox", "Store", "__version__", "open_store",
    "Error", "AuthenticationError", "CancelledError", "ConfigurationError", "InvalidInputError",
    "NotFoundError", "RateLimitError", "StoreError", "UnavailableError",
]


# enrich_one spends its time waiting on the network with the GIL released, so awaiting many at
# once needs as many threads. asyncio's default executor is sized for CPU work (min(32, CPUs + 4)
# workers: 6 on a 2-core machine), which made 8 concurrent calls take two round trips.
ASYNC_WORKERS = 128
_executor: Optional[concurrent.futures.ThreadPoolExecutor] = None
_executor_lock = threading.Lock()


def _io_executor() -> concurrent.futures.ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = concurrent.futures.ThreadPoolExecutor(max_workers=ASYNC_WORKERS,
                                                              thread_name_prefix="leadenrich")
        return _executor


async def _enrich_one_async(self: Enricher, lead: Any) -> EnrichedLead:
    """Like enrich_one, without blocking the event loop. Runs on leadenrich's own thread pool
    (up to ASYNC_WORKERS calls wait at once), not the loop's default executor."""
    return await asyncio.get_running_loop().run_in_executor(_io_executor(), self.enrich_one, lead)


Enricher.enrich_one_async = _enrich_one_async


class Sandbox:
    """The in-process emulator of the Aturiya and pipe0 APIs, with synthetic data.

    Use it as a context manager; ``config`` points every client at it.
    """

    def __init__(self, seed: int = 42, latency_ms: int = 0, fail_5xx: float = 0.0, fail_429: float = 0.0,
                 require_key: str = ""):
        self._options = dict(seed=seed, latency_ms=latency_ms, fail_5xx=fail_5xx, fail_429=fail_429,
                             require_key=require_key)
        self._sandbox: Optional[_Sandbox] = None

    def start(self) -> "Sandbox":
        if self._sandbox is None:
            self._sandbox = _Sandbox.start(**self._options)
        return self

    def stop(self) -> None:
        if self._sandbox is not None:
            self._sandbox.stop()
            self._sandbox = None

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._running().base_url

    @property
    def config(self) -> Config:
        return self._running().config

    def counters(self) -> Dict[str, Any]:
        return self._running().counters()

    def _running(self) -> _Sandbox:
        if self._sandbox is None:
            raise Error("the sandbox is not running: use `with Sandbox() as sandbox:` or call start()")
        return self._sandbox

    def __repr__(self) -> str:
        return f"Sandbox(base_url={self._sandbox.base_url!r})" if self._sandbox else "Sandbox(stopped)"
