"""Catalog, database and view statements and the Python catalog API."""

import pytest

from flink_py.table import EnvironmentSettings, TableEnvironment
from flink_py.table.errors import ValidationException


def _env() -> TableEnvironment:
    return TableEnvironment.create(EnvironmentSettings.in_batch_mode())


def test_a_view_lives_in_the_database_current_when_it_was_made(capsys):
    env = _env()
    env.execute_sql("CREATE CATALOG c WITH ('type' = 'generic_in_memory')")
    env.use_catalog("c")
    assert (env.get_current_catalog(), env.get_current_database()) == ("c", "default")
    env.execute_sql("CREATE VIEW v (n) AS SELECT 1")
    assert env.list_tables() == ["v"]
    env.use_catalog("default_catalog")
    assert env.list_tables() == []
    assert [r[0] for r in env.execute_sql("SELECT n FROM c.`default`.v").collect()] == [1]
    assert capsys.readouterr().err == ""  # no sqlglot 'Command' warnings


def test_dropping_a_database_with_objects_needs_cascade():
    env = _env()
    env.execute_sql("CREATE DATABASE d")
    env.execute_sql("CREATE VIEW d.v AS SELECT 1")
    with pytest.raises(ValidationException, match="Could not execute DROP DATABASE "
                                                  "default_catalog.d RESTRICT"):
        env.execute_sql("DROP DATABASE d")
    env.execute_sql("DROP DATABASE d CASCADE")
    assert env.list_databases() == ["default_database"]


def test_an_unknown_catalog_or_database_is_named():
    env = _env()
    with pytest.raises(ValidationException, match=r"A catalog with name \[x\] does not exist"):
        env.use_catalog("x")
    with pytest.raises(ValidationException, match=r"A database with name \[y\] does not exist "
                                                  r"in the catalog: \[default_catalog\]"):
        env.execute_sql("USE y")
