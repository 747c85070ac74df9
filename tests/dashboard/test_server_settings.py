"""gunicorn's settings for the dashboard come from one typed object, and a bad value names itself."""

from __future__ import annotations

import pytest
from dashboard.settings import ServerSettings, SettingsError


def test_defaults_and_the_variables_pulumi_sets():
    assert ServerSettings.from_env({}) == ServerSettings()
    server = ServerSettings.from_env({"GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "32", "GUNICORN_KEEPALIVE": "125",
                                      "PORT": "9000", "GUNICORN_ACCESS_LOG": "none", "LOG_LEVEL": "DEBUG"})
    assert (server.workers, server.threads, server.keepalive) == (1, 32, 125)
    assert (server.bind, server.access_log, server.log_level) == ("0.0.0.0:9000", False, "debug")
    assert ServerSettings.from_env({"GUNICORN_BIND": "127.0.0.1:8060", "PORT": "9000"}).bind == "127.0.0.1:8060"


def test_the_request_deadlines_are_settings():
    server = ServerSettings.from_env({"GUNICORN_HEADER_TIMEOUT": "5", "GUNICORN_REQUEST_TIMEOUT": "30"})
    assert (server.header_timeout, server.request_timeout) == (5, 30)
    assert ServerSettings.from_env(server.to_env()) == server


@pytest.mark.parametrize(("name", "value"), [("GUNICORN_THREADS", "many"), ("GUNICORN_WORKERS", "0"),
                                             ("GUNICORN_HEADER_TIMEOUT", "soon"), ("GUNICORN_REQUEST_TIMEOUT", "0")])
def test_a_bad_value_is_refused_by_name(name, value):
    with pytest.raises(SettingsError, match=name):
        ServerSettings.from_env({name: value})
