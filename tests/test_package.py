"""The public surface and the import cost of the library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import eventlog
from eventlog._schema import BUILTIN, json_schema

ROOT = Path(__file__).parent.parent


class TestExports:
    def test_all_is_exactly_the_public_surface(self) -> None:
        """__all__ lists every public name of the package and nothing else."""
        public = {n for n in dir(eventlog) if not n.startswith("_")} - {
            "annotations",
            "Any",
            "exceptions",
            "integrations",  # a subpackage, present once something imported it
            "testing",
        }
        public |= {"EventlogHandler", "__version__"}
        assert sorted(public) == sorted(eventlog.__all__)
        assert len(set(eventlog.__all__)) == len(eventlog.__all__)  # order: ruff's RUF022 (make lint)

    def test_every_exported_name_resolves(self) -> None:
        """Each name in __all__ can be fetched (lazy ones included)."""
        for name in eventlog.__all__:
            assert getattr(eventlog, name) is not None


class TestImportCost:
    def test_import_eventlog_loads_no_heavy_module(self) -> None:
        """import eventlog pulls in none of polars, typer, rich, structlog, pandas, numpy."""
        code = (
            "import sys, eventlog; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'polars','typer','rich','structlog','pandas','numpy'})))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == ""

    def test_get_logger_imports_structlog_only_then(self) -> None:
        """structlog arrives with the first get_logger() call."""
        code = (
            "import sys, eventlog; a = 'structlog' in sys.modules; eventlog.get_logger('x'); "
            "print(a, 'structlog' in sys.modules)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "False True"


class TestSchemasOnDisk:
    def test_committed_schemas_match_the_code(self) -> None:
        """schemas/*.json are exactly what `make schemas` generates (no drift)."""
        for name in ["envelope", *(t.name for t in BUILTIN)]:
            on_disk = json.loads((ROOT / "schemas" / f"{name}.json").read_text(encoding="utf-8"))
            assert json_schema(name) == on_disk, f"schemas/{name}.json is stale: run make schemas"

    def test_no_extra_schema_files(self) -> None:
        """Every file in schemas/ comes from a definition."""
        names = {p.stem for p in (ROOT / "schemas").glob("*.json")}
        assert {"envelope", *(t.name for t in BUILTIN)} == names
