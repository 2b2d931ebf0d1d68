"""A small shop: orders in PostgreSQL, visits counted in Redis, uploads in /storage."""
import os
import sys

import psycopg2
import redis
from flask import Flask, redirect, request, url_for
from werkzeug.middleware.proxy_fix import ProxyFix

SCHEMA = "CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, item text NOT NULL)"


def migrate(database_url):
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA)


def create_app(database_url=None):
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)
    app.config["SERVER_NAME"] = os.environ["SITE_DOMAIN"]
    app.config["PREFERRED_URL_SCHEME"] = os.environ.get("SITE_PROTOCOL", "http")
    database_url = database_url or os.environ["DB_DEFAULT_URL"]
    cache = redis.Redis.from_url(os.environ["REDIS_URL"])

    @app.get("/")
    def home():
        return redirect(url_for("login"))

    @app.get("/login")
    def login():
        visits = cache.incr("visits")
        return f"<p>login at {url_for('login', _external=True)}</p><p>visits={visits}</p>"

    @app.get("/healthz")
    def healthz():
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            cur.execute("SELECT 1")
        cache.ping()
        return "ok"

    @app.route("/orders", methods=["GET", "POST"])
    def orders():
        with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
            if request.method == "POST":
                cur.execute("INSERT INTO orders (item) VALUES (%s) RETURNING id", (request.form["item"],))
                order = cur.fetchone()[0]
                with open(f"/storage/order-{order}.txt", "w") as receipt:
                    receipt.write(request.form["item"])
                return str(order), 201
            cur.execute("SELECT count(*) FROM orders")
            return str(cur.fetchone()[0])

    return app


if __name__ == "__main__" and sys.argv[1:] == ["migrate"]:
    migrate(os.environ["DB_DEFAULT_URL"])
    print("orders table ready")
