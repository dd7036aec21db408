"""pactgraph's interfaces: the FastAPI app, the CLI and the web explorer's static files."""
