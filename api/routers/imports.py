"""POST /import/{dataset}: a dataset file as its publisher distributes it, as `pactgraph import`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from pactgraph.api.state import read_body, require_token, state
from pactgraph.graph import Kind, PactgraphError
from pactgraph.graph.importers import InputFile, dataset, run_import

router = APIRouter(tags=["store"])


@router.post(
    "/import/{dataset_name}",
    summary="Import a dataset file as distributed: one graph per release",
    dependencies=[Depends(require_token)],
)
async def import_dataset(
    request: Request,
    dataset_name: Annotated[
        str,
        Path(
            description="cow-states, archigos, reign, un-members, wikidata, atop, desta, gsdb, opensanctions"
        ),
    ],
    name: Annotated[
        str | None, Query(description="the file's name as distributed (REIGN's names its release)")
    ] = None,
    skip_bad_rows: Annotated[bool, Query(description="skip unreadable rows and list them")] = False,
    replace: Annotated[
        bool, Query(description="true: replace the release's graph when another source (a file) holds it")
    ] = False,
) -> dict[str, Any]:
    """The file is the request body (or several, as multipart/form-data file fields)."""
    ds = dataset(dataset_name)
    ctype = request.headers.get("content-type", "")
    files: list[InputFile] = []
    if ctype.startswith("multipart/form-data"):
        form = await request.form()
        for _key, value in form.multi_items():
            if hasattr(value, "read"):
                files.append(InputFile(getattr(value, "filename", None) or _key, await value.read()))
    else:
        body = await read_body(request)
        if body:
            files.append(InputFile(name or ds.files.split()[0], body))
    if not files:
        raise PactgraphError(Kind.BAD_INPUT, f"send the dataset's file ({ds.files}) as the request body")
    st = state(request)
    result = await st.run(
        lambda: run_import(st.store, ds.name, files, skip_bad_rows=skip_bad_rows, replace=replace),
        timeout=max(st.settings.query_timeout, 600),
    )
    return result.as_dict()
