"""The distribution: the wheel builds, installs into a fresh venv, and gives the command and the import."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import eventlog

ROOT = Path(__file__).parent.parent


def _run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVENTLOG_", "VIRTUAL_ENV", "PYTHONPATH"))}
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert 0 == out.returncode, f"{' '.join(map(str, args))} failed:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from this checkout (pip wheel, hatchling from the configured index)."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, ROOT)
    wheels = list(out.glob("*.whl"))
    assert 1 == len(wheels)
    return wheels[0]


@pytest.mark.timeout(600)
class TestWheel:
    def test_distribution_name_is_not_the_taken_one(self) -> None:
        """The project is published as eventlog-ml ("eventlog" on the index is another project)."""
        meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        assert "eventlog-ml" == meta["name"]
        assert eventlog.__version__ == meta["version"]

    def test_readme_install_line_names_the_distribution(self) -> None:
        """Every pip install line in the README installs eventlog-ml."""
        lines = [ln for ln in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if "pip install" in ln]
        assert lines
        for ln in lines:
            assert "eventlog-ml" in ln, ln

    def test_wheel_holds_both_packages_and_no_bare_cli(self, wheel: Path) -> None:
        """The wheel ships eventlog/ and eventlog_cli/ at the top level, nothing named cli/."""
        assert wheel.name.startswith("eventlog_ml-")
        names = set(zipfile.ZipFile(wheel).namelist())
        tops = {n.split("/")[0] for n in names}
        assert {"eventlog", "eventlog_cli"} <= tops
        assert "cli" not in tops
        assert {"eventlog/integrations/transformers.py", "eventlog_cli/importers/verl.py"} <= names

    def test_installed_wheel_gives_version_and_import(self, wheel: Path, tmp_path: Path) -> None:
        """In a fresh venv with the wheel and its cli extra, `eventlog --version` and `import eventlog` work."""
        env_dir = tmp_path / "venv"
        venv.create(env_dir, with_pip=True, system_site_packages=False)
        py = env_dir / "bin" / "python"
        _run(py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[cli]")
        out = _run(env_dir / "bin" / "eventlog", "--version", cwd=tmp_path)
        assert f"eventlog {eventlog.__version__}\n" == out.stdout
        code = "import eventlog, eventlog_cli; print(eventlog.__version__, eventlog.__file__)"
        out = _run(py, "-c", code, cwd=tmp_path)
        version, where = out.stdout.split()
        assert eventlog.__version__ == version
        assert str(env_dir) in where  # the installed copy, not this checkout
