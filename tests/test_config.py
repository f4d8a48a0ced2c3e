"""Configuration precedence and strict parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from eventlog import ConfigError
from eventlog._config import load_config


class TestPrecedence:
    def test_init_beats_env_beats_file_beats_default(self, tmp_path: Path) -> None:
        """init() > EVENTLOG_* > eventlog.toml > defaults, per setting."""
        (tmp_path / "eventlog.toml").write_text('console = "compact"\nflush_interval = 1.5\nqueue_size = 50\n')
        env = {"EVENTLOG_FLUSH_INTERVAL": "0.7", "EVENTLOG_QUEUE_SIZE": "60"}
        cfg = load_config({"queue_size": 70}, env=env, cwd=tmp_path)
        assert ("compact", 0.7, 70, "close") == (cfg.console, cfg.flush_interval, cfg.queue_size, cfg.fsync)
        assert {
            "console": str(tmp_path / "eventlog.toml"),
            "flush_interval": "EVENTLOG_FLUSH_INTERVAL",
            "queue_size": "init()",
        } == dict(cfg.sources)

    def test_pyproject_tool_table_in_a_parent_directory(self, tmp_path: Path) -> None:
        """[tool.eventlog] in the nearest pyproject.toml applies to subdirectories."""
        (tmp_path / "pyproject.toml").write_text('[tool.eventlog]\ncolumns = ["step", "loss"]\n')
        sub = tmp_path / "a" / "b"
        sub.mkdir(parents=True)
        assert ("step", "loss") == load_config(env={}, cwd=sub).columns


class TestErrors:
    @pytest.mark.parametrize(
        ("name", "value", "words"),
        [
            ("EVENTLOG_FLUSH_INTERVAL", "soon", "expected a positive number of seconds"),
            ("EVENTLOG_CONSOLE", "fancy", "expected one of banner, compact, off"),
            ("EVENTLOG_STRICT", "maybe", "expected 1/0"),
            ("EVENTLOG_QUEUE_SIZE", "-3", "expected a positive whole number"),
        ],
    )
    def test_bad_env_value_names_the_variable(self, name: str, value: str, words: str, tmp_path: Path) -> None:
        """A bad variable raises ConfigError naming it, its value and what is expected."""
        with pytest.raises(ConfigError) as exc:
            load_config(env={name: value}, cwd=tmp_path)
        assert f"{name}={value!r}: {words}" in str(exc.value)

    def test_unknown_file_key_is_an_error(self, tmp_path: Path) -> None:
        """A typo in the config file is reported, not ignored."""
        (tmp_path / "eventlog.toml").write_text("flush_intervall = 1\n")
        with pytest.raises(ConfigError, match="unknown key 'flush_intervall'"):
            load_config(env={}, cwd=tmp_path)
