"""The FastAPI app factory: settings in, app out; `serve` and the tests share it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pyoxigraph as ox
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from pactgraph.api import errors
from pactgraph.api.http_limits import BodyTimeout
from pactgraph.api.result_cache import ResultCache
from pactgraph.api.routers import alliances, entities, export, imports, meta, paths, sparql, timeline, web
from pactgraph.api.routers import store as graph_store
from pactgraph.api.settings import Settings
from pactgraph.api.state import AppState
from pactgraph.data import DATA_DIR
from pactgraph.graph import PactgraphError, Store, ensure_ontology, ingest, open_store, read_sources
from pactgraph.graph.projection import ProjectionCache
from pactgraph.graph.workers import QueryWorkers


def load_bundled_if_empty(db: Store) -> None:
    """An empty store gets the bundled data, so `serve` answers at once; every store gets the
    package's ontology, written again at each start when its graph holds anything else."""
    native = db.oxigraph
    if native is not None:
        # An index probe per graph: listing the graphs by a query scans every quad (a second at 1M).
        def holds(g: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
            return next(iter(native.quads_for_pattern(None, None, None, g)), None) is not None

        empty = not any(holds(g) for g in native.named_graphs() if isinstance(g, ox.NamedNode))
    else:
        empty = not db.graph_names()
    ensure_ontology(db)
    if empty:
        ingest(db, read_sources([DATA_DIR]))


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    """Build the app. `store` may be given (tests); otherwise it is opened from settings.store."""
    cfg = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = store or open_store(cfg.store)
        st = AppState(
            settings=cfg,
            store=db,
            workers=QueryWorkers(db, cfg.query_workers, cfg.query_memory_mib, cfg.query_queue),
            projections=ProjectionCache(db),
        )
        app.state.pactgraph = st
        # No cache over a remote server: others may write to it without pactgraph knowing.
        cache_mib = cfg.result_cache if db.remote is None else 0
        app.state.result_cache = ResultCache(int(cache_mib * 1024 * 1024))
        try:
            if cfg.load_bundled:
                await st.run(lambda: load_bundled_if_empty(db), timeout=600)
            # Ready means the projection and the name index are there (loaded from the snapshot
            # of this store generation, else built), not only the store open.
            await st.run(st.start, timeout=600)
            st.ready = True
            st.start_saving()
            yield
        finally:
            st.unfollow()
            st.wait_saved(timeout=60)
            st.workers.close()
            st.shutdown()
            if store is None:
                db.close()

    app = FastAPI(
        title="pactgraph",
        version="0.1.0",
        description="A knowledge graph of states, leaders and agreements: SPARQL 1.1, graph store, ingest.",
        lifespan=lifespan,
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "OPTIONS", "POST"],
        allow_headers=["*"],
    )
    # A request body must arrive within PACTGRAPH_BODY_TIMEOUT of the app's first read (408).
    app.add_middleware(BodyTimeout, seconds=cfg.body_timeout)
    # Content-Security-Policy and nosniff on every answer (api/routers/web.py).
    app.add_middleware(web.SecurityHeaders)
    errors.install(app)
    app.include_router(sparql.router, responses=errors.ERROR_RESPONSES)
    app.include_router(graph_store.router, responses=errors.ERROR_RESPONSES)
    app.include_router(meta.router, responses=errors.ERROR_RESPONSES)
    app.include_router(entities.router, responses=errors.ERROR_RESPONSES)
    app.include_router(paths.router, responses=errors.ERROR_RESPONSES)
    app.include_router(export.router, responses=errors.ERROR_RESPONSES)
    app.include_router(timeline.router, responses=errors.ERROR_RESPONSES)
    app.include_router(alliances.router, responses=errors.ERROR_RESPONSES)
    app.include_router(imports.router, responses=errors.ERROR_RESPONSES)
    app.include_router(web.router, responses=errors.ERROR_RESPONSES)
    return app


__all__ = ["PactgraphError", "create_app"]
