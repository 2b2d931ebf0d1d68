"""Service conformance: uses each Pallet service variable it gets, reports, and fails loudly."""
import os
import smtplib
import sys
import urllib.parse
from email.message import EmailMessage


def check_postgres(url):
    import psycopg2
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS pallet_check (note text)")
        cur.execute("INSERT INTO pallet_check VALUES (%s)", (os.environ.get("MARK", "x"),))
        cur.execute("SELECT count(*) FROM pallet_check")
        rows = cur.fetchone()[0]
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cur.fetchone()[0]
        cur.execute("SELECT current_database(), current_user")
        database, user = cur.fetchone()
    if superuser:
        raise RuntimeError("the application's role is a superuser")
    return f"database {database} as {user} (not superuser), {rows} row(s)"


def check_redis(url):
    import redis
    client = redis.Redis.from_url(url)
    client.set("pallet:check", "ok")
    assert client.get("pallet:check") == b"ok"
    hosts, index = os.environ["REDIS_HOSTS"], os.environ["REDIS_DB_INDEX"]
    return f"set/get ok (REDIS_HOSTS={hosts}, REDIS_DB_INDEX={index})"


def check_memcache(hosts, prefix):
    from pymemcache.client.base import Client
    host, port = hosts.split("|")[0].split(":")
    client = Client((host, int(port)), connect_timeout=5, timeout=5)
    client.set(f"{prefix}:check", b"ok")
    assert client.get(f"{prefix}:check") == b"ok"
    return f"set/get ok with prefix {prefix}"


def check_amqp(urls):
    import pika
    url = urls.split("|")[0]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.queue_declare(queue="pallet-check")
    channel.basic_publish(exchange="", routing_key="pallet-check", body=b"ok")
    method, _, body = channel.basic_get(queue="pallet-check", auto_ack=True)
    connection.close()
    assert body == b"ok", body
    vhost = urllib.parse.urlsplit(url).path.lstrip("/")
    return f"publish/get ok on vhost {vhost}"


def check_smtp(host, port):
    message = EmailMessage()
    message["From"] = "app@example.test"
    message["To"] = "someone@example.test"
    message["Subject"] = "pallet check " + os.environ.get("MARK", "")
    message.set_content("hello")
    with smtplib.SMTP(host, int(port), timeout=10) as smtp:
        smtp.send_message(message)
    return "message sent"


def check_syslog(server, port, proto):
    import socket
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.connect((server, int(port)))
        sock.send(f"<14>pallet-check: hello {os.environ.get('MARK', '')}\n".encode())
    return f"message sent over {proto}"


def run_checks():
    env = os.environ
    checks = []
    if "DB_DEFAULT_URL" in env:
        checks.append(("postgres", lambda: check_postgres(env["DB_DEFAULT_URL"])))
    if "REDIS_URL" in env:
        checks.append(("redis", lambda: check_redis(env["REDIS_URL"])))
    if "MEMCACHE_HOSTS" in env:
        checks.append(("memcache", lambda: check_memcache(env["MEMCACHE_HOSTS"], env["MEMCACHE_PREFIX"])))
    if "AMQP_URLS" in env:
        checks.append(("rabbitmq", lambda: check_amqp(env["AMQP_URLS"])))
    if "SYSLOG_SERVER" in env:
        checks.append(("syslog", lambda: check_syslog(env["SYSLOG_SERVER"], env["SYSLOG_PORT"], env["SYSLOG_PROTO"])))
    if "EMAIL_HOST" in env:
        checks.append(("smtp", lambda: check_smtp(env["EMAIL_HOST"], env["EMAIL_PORT"])))
    failed = 0
    for name, check in checks:
        try:
            print(f"service {name}: ok: {check()}", flush=True)
        except Exception as error:  # report every failure, then fail
            failed += 1
            print(f"service {name}: FAILED: {type(error).__name__}: {error}", flush=True)
    for key in sorted(env):
        if key.startswith(("DB_", "REDIS_", "MEMCACHE_", "AMQP_", "EMAIL_", "ELASTICSEARCH_", "SYSLOG_", "HTTP_PROXY")):
            print(f"variable {key}={env[key]}", flush=True)
    return failed


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in ("test", "deploy"):
        failed = run_checks()
        print(f"{command}: {'passed' if not failed else f'{failed} service check(s) failed'}")
        sys.exit(1 if failed else 0)
    if command == "serve":
        import http.server
        import signal
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        os.chdir("/static")
        http.server.ThreadingHTTPServer(("", 8000), http.server.SimpleHTTPRequestHandler).serve_forever()
    print("usage: test | deploy | serve", file=sys.stderr)
    sys.exit(64)


if __name__ == "__main__":
    main()
