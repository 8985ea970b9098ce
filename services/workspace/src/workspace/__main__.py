import uvicorn

from workspace.app import build_app
from workspace.settings import WorkspaceSettings

settings = WorkspaceSettings()
uvicorn.run(
    build_app(settings),
    host=settings.http_host,
    port=settings.http_port,
    log_config=None,
    # Our own access log (workspace.access_log) writes the path alone, never the query.
    access_log=False,
)
