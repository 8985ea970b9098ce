import sqlite3

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from socialsvc_common.problems import PROBLEM_JSON, install_problem_handlers


def app_failing_with(message: str) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/steps")
    async def step() -> None:
        raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError(message))

    return TestClient(app, raise_server_exceptions=False)


def test_a_locked_database_is_a_503_to_try_again_not_a_500() -> None:
    answer = app_failing_with("database is locked").post("/steps")
    assert answer.status_code == 503
    assert answer.headers["content-type"] == PROBLEM_JSON
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["type"].endswith("/database-busy")


def test_another_database_failure_stays_a_server_error() -> None:
    assert app_failing_with("no such table: placements").post("/steps").status_code == 500
