"""Settings come from COP_* variables only, validated, with per-kind stream bounds."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from cop.settings import DEFAULT_STREAM_MAXLEN, Settings
from cop.store.embedded import MAX_SOCKET_PATH, render_config, socket_path_for


def test_environment_variables_are_read_with_the_cop_prefix(monkeypatch):
    monkeypatch.setenv("COP_REDIS_PREFIX", "exercise")
    monkeypatch.setenv("COP_HUB_FLUSH_MS", "200")
    monkeypatch.setenv("COP_STREAM_MAXLEN", '{"position": 2000}')
    settings = Settings()
    assert settings.redis_prefix == "exercise"
    assert settings.hub_flush_ms == 200
    assert settings.stream_maxlen["position"] == 2000
    assert settings.stream_maxlen["hospital"] == DEFAULT_STREAM_MAXLEN["hospital"]


def test_flush_interval_outside_100_to_250_ms_is_refused():
    with pytest.raises(ValidationError, match="hub_flush_ms"):
        Settings(hub_flush_ms=1000)


def test_unknown_stream_kind_in_maxlen_is_refused():
    with pytest.raises(ValidationError, match="unknown stream kind"):
        Settings(stream_maxlen={"weather": 5000})


def test_prefix_with_a_colon_or_space_is_refused():
    with pytest.raises(ValidationError, match="redis_prefix"):
        Settings(redis_prefix="a b")


def test_embedded_config_turns_on_aof_every_second_without_rdb(tmp_path):
    config = render_config(tmp_path, tmp_path / "redis.sock", 0)
    assert "appendonly yes" in config
    assert "appendfsync everysec" in config
    assert 'save ""' in config
    assert f'dir "{tmp_path}"' in config


def test_long_data_dir_gets_a_short_socket_path():
    long_dir = Path("/tmp") / ("x" * 150)
    path = socket_path_for(long_dir)
    assert len(str(path)) <= MAX_SOCKET_PATH
    assert socket_path_for(Path("/tmp/var")) == Path("/tmp/var/redis.sock")
