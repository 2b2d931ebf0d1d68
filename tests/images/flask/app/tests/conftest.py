import os
from urllib.parse import urlparse

import psycopg2
import pytest
import redis

from shop import create_app, migrate


@pytest.fixture(scope="session")
def database_url():
    """A test database of the suite's own, kept for the next run (as pytest-django --reuse-db)."""
    base = urlparse(os.environ["DB_DEFAULT_URL"])
    name = base.path.lstrip("/") + "_pytest"
    admin = psycopg2.connect(os.environ["DB_DEFAULT_URL"])
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    url = base._replace(path="/" + name).geturl()
    migrate(url)
    return url


@pytest.fixture
def client(database_url):
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    app = create_app(database_url)
    app.config["TESTING"] = True
    return app.test_client()
