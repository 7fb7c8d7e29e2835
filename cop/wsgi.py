"""The one module that builds the app at import, for gunicorn (`gunicorn -k gevent cop.wsgi:app`)."""

from cop.app import create_app
from cop.logs import configure
from cop.settings import Settings

settings = Settings()
configure(settings.log_level, "web", settings.log_format)
cop_app = create_app(settings)
app = cop_app.server
