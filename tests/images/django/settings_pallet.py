
# --- Configured from the Pallet environment, as the project's README tells users to. ---
import os

import dj_database_url

SECRET_KEY = os.environ.get("SECRET_KEY", SECRET_KEY)
DEBUG = False
ALLOWED_HOSTS = [os.environ.get("SITE_DOMAIN", "localhost")]
DATABASES = {"default": dj_database_url.config(env="DB_DEFAULT_URL")}
INSTALLED_APPS += ["notes"]
STATIC_ROOT = "/static"
STATIC_URL = "/static/"
MEDIA_ROOT = "/storage/media"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE = os.environ.get("SITE_PROTOCOL") == "https"
LOGGING = {"version": 1, "handlers": {"console": {"class": "logging.StreamHandler"}},
           "root": {"handlers": ["console"], "level": "WARNING"}}
