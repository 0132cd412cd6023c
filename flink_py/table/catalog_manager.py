"""Catalog and database statements (``SHOW CATALOGS``, ``CREATE DATABASE``, ``USE``, ...)
and views (``CREATE VIEW``/``DROP VIEW``/``DROP TABLE``), dispatched before sqlglot sees
them (sqlglot would parse most of them as a 'Command' with a warning on stderr)."""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Set

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.table_result import ResultKind, TableResult

__all__ = ["catalog_statement"]

_IDENT = r"`[^`]+`|[A-Za-z_][\w$]*"
_PATH = rf"(?:{_IDENT})(?:\s*\.\s*(?:{_IDENT})){{0,2}}"


def _catalogs(env: Any) -> Dict[str, Set[str]]:
    """Each catalog's databases (made on first use: ``default_catalog.default_database``)."""
    if not hasattr(env, "_catalog_dbs"):
        env._catalog_dbs = {"default_catalog": {"default_database"}}
    return env._catalog_dbs


def _permanent(env: Any) -> Set[str]:
    """The keys of the views created without TEMPORARY."""
    if not hasattr(env, "_permanent_keys"):
        env._permanent_keys = set()
    return env._permanent_keys


def _quoted(key: str) -> str:
    return ".".join(f"`{p}`" for p in key.split("."))


def _strip(name: str) -> str:
    return ".".join(p.strip().strip("`") for p in name.split("."))


def _names(header: str, names: Any) -> TableResult:
    rows = [(0, (n,)) for n in sorted(names)]
    return TableResult([header], [t.VarCharType(False)], lambda: iter(rows), False,
                       widths_by_content=True)


def _ok() -> TableResult:
    rows = [(0, ("OK",))]
    return TableResult(["result"], [t.VarCharType(False)], lambda: iter(rows), False,
                       ResultKind.SUCCESS, widths_by_content=True)


def use_catalog(env: Any, name: str) -> None:
    if name not in _catalogs(env):
        raise ValidationException(f"org.apache.flink.table.catalog.exceptions.CatalogException: A catalog with name [{name}] does not exist.")
    env._current_catalog = name
    # a generic_in_memory catalog's default database is 'default'
    env._current_database = "default_database" if name == "default_catalog" else "default"


def use_database(env: Any, name: str) -> None:
    parts = _strip(name).split(".")
    catalog = parts[0] if len(parts) == 2 else env._current_catalog
    if parts[-1] not in _catalogs(env).get(catalog, set()):
        raise ValidationException(f"org.apache.flink.table.catalog.exceptions.CatalogException: A database with name [{parts[-1]}] does not exist in the "
                                  f"catalog: [{catalog}].")
    env._current_catalog, env._current_database = catalog, parts[-1]


def _database(env: Any, name: str) -> tuple:
    parts = _strip(name).split(".")
    return (parts[0] if len(parts) == 2 else env._current_catalog), parts[-1]


def catalog_statement(env: Any, stmt: str) -> Optional[TableResult]:
    """The result of a catalog, database or view statement; None for any other."""
    s = stmt.strip().rstrip(";").strip()
    flags = re.IGNORECASE | re.DOTALL
    if re.fullmatch(r"SHOW\s+CATALOGS", s, flags):
        return _names("catalog name", _catalogs(env))
    if re.fullmatch(r"SHOW\s+CURRENT\s+CATALOG", s, flags):
        return _names("current catalog name", [env._current_catalog])
    if re.fullmatch(r"SHOW\s+DATABASES", s, flags):
        return _names("database name", _catalogs(env)[env._current_catalog])
    if re.fullmatch(r"SHOW\s+CURRENT\s+DATABASE", s, flags):
        return _names("current database name", [env._current_database])
    m = re.fullmatch(rf"CREATE\s+CATALOG\s+({_IDENT})\s+WITH\s*\((.*)\)", s, flags)
    if m:
        options = dict(re.findall(r"'([^']*)'\s*=\s*'([^']*)'", m.group(2)))
        if options.get("type") != "generic_in_memory":
            raise TableException(f"CREATE CATALOG of type {options.get('type')!r} is not "
                                 f"supported yet (only 'generic_in_memory')")
        _catalogs(env)[_strip(m.group(1))] = {"default"}
        return _ok()
    m = re.fullmatch(r"USE\s+CATALOG\s+(" + _IDENT + r")", s, flags)
    if m:
        use_catalog(env, _strip(m.group(1)))
        return _ok()
    m = re.fullmatch(rf"CREATE\s+DATABASE\s+(IF\s+NOT\s+EXISTS\s+)?({_PATH})", s, flags)
    if m:
        catalog, db = _database(env, m.group(2))
        dbs = _catalogs(env)[catalog]
        if db in dbs and not m.group(1):
            raise ValidationException(
                f"Could not execute CREATE DATABASE: (catalogDatabase: [{{}}], catalogName: "
                f"[{catalog}], databaseName: [{db}], ignoreIfExists: [false])")
        dbs.add(db)
        return _ok()
    m = re.fullmatch(rf"DROP\s+DATABASE\s+(IF\s+EXISTS\s+)?({_PATH})(\s+RESTRICT|\s+CASCADE)?",
                     s, flags)
    if m:
        catalog, db = _database(env, m.group(2))
        dbs = _catalogs(env).get(catalog, set())
        if db not in dbs:
            if m.group(1):
                return _ok()
            raise ValidationException(f"Could not execute DROP DATABASE {catalog}.{db} "
                                      f"RESTRICT")
        prefix = f"{catalog}.{db}."
        inside = [k for k in list(env._tables) + list(env._views) if k.startswith(prefix)]
        if inside and not (m.group(3) or "").strip().upper() == "CASCADE":
            raise ValidationException(f"Could not execute DROP DATABASE {catalog}.{db} "
                                      f"RESTRICT")
        for k in inside:
            env._tables.pop(k, None)
            env._views.pop(k, None)
        dbs.discard(db)
        return _ok()
    m = re.fullmatch(r"USE\s+(" + _PATH + r")", s, flags)
    if m:
        use_database(env, m.group(1))
        return _ok()
    m = re.fullmatch(rf"CREATE\s+(TEMPORARY\s+)?VIEW\s+(IF\s+NOT\s+EXISTS\s+)?({_PATH})\s*"
                     rf"(\(([^)]*)\))?\s*AS\s+(.*)", s, flags)
    if m:
        key = env._qualified(m.group(3))
        if key in env._views or key in env._tables:
            if m.group(2):
                return _ok()
            raise ValidationException(f"Could not execute CreateTable in path "
                                      f"{_quoted(key)}")
        table = env.sql_query(m.group(6))
        if m.group(5):
            table = table.alias(*[_strip(c) for c in m.group(5).split(",")])
        env._views[key] = table._plan
        if not m.group(1):
            _permanent(env).add(key)
        return _ok()
    m = re.fullmatch(rf"DROP\s+(TEMPORARY\s+)?(VIEW|TABLE)\s+(IF\s+EXISTS\s+)?({_PATH})",
                     s, flags)
    if m:
        key = env._qualified(m.group(4))
        store = env._views if m.group(2).upper() == "VIEW" else env._tables
        temporary = bool(m.group(1))
        kind = m.group(2).capitalize()
        if key in store and not temporary and key not in _permanent(env) and kind == "View":
            raise ValidationException(f"Temporary view with identifier '{_quoted(key)}' exists. "
                                      f"Drop it first before removing the permanent view.")
        if key not in store or (temporary and key in _permanent(env)):
            if m.group(3):
                return _ok()
            what = "Temporary table or view" if temporary else kind
            raise ValidationException(f"{what} with identifier '{key}' does not exist.")
        del store[key]
        _permanent(env).discard(key)
        return _ok()
    return None
