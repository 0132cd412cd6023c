"""The ``flink`` command. For now ``run`` executes a program on an embedded MiniCluster.

The cluster actions (``list``, ``cancel``, ``info`` against a JobManager, ``-m``) come with
the cluster daemons; until then they say so and exit non-zero.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import Optional, Tuple

import click

from flink_py.common.configuration import Configuration
from flink_py.datastream import stream_execution_environment as env_module


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """flink_py's command line: ./flink <ACTION> [OPTIONS] [ARGUMENTS]"""


@main.command(context_settings={"ignore_unknown_options": True,
                                "allow_interspersed_args": False})
@click.option("-c", "--class", "entry_module", default=None,
              help="Python module with the program's entry point (module.path).")
@click.option("-p", "--parallelism", type=int, default=None,
              help="Default parallelism of the program.")
@click.option("-D", "dynamic_properties", multiple=True, metavar="key=value",
              help="Configuration value (repeatable).")
@click.argument("program", required=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def run(entry_module: Optional[str], parallelism: Optional[int],
        dynamic_properties: Tuple[str, ...], program: Optional[str],
        args: Tuple[str, ...]) -> None:
    """Runs a program (a .py file, or a module with -c) on an embedded MiniCluster."""
    overrides = Configuration()
    for item in dynamic_properties:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected key=value, got {item!r}", param_hint="-D")
        overrides.set_string(key, value)
    if parallelism is not None:
        if parallelism < 1:
            raise click.BadParameter(f"must be positive, got {parallelism}",
                                     param_hint="-p")
        overrides.set_string("parallelism.default", str(parallelism))
    if entry_module is None and program is None:
        raise click.UsageError("give a .py file or -c module.path")
    if entry_module is not None and program is not None:
        args = (program,) + args
    original = env_module.StreamExecutionEnvironment.get_execution_environment

    def with_overrides(configuration: Optional[Configuration] = None
                       ) -> "env_module.StreamExecutionEnvironment":
        merged = Configuration()
        merged.add_all(overrides)
        if configuration is not None:
            merged.add_all(configuration)
        return original(merged)

    env_module.StreamExecutionEnvironment.get_execution_environment = (  # type: ignore
        staticmethod(with_overrides))
    sys.argv = [program or entry_module or ""] + list(args)
    try:
        if entry_module is not None:
            # As `python -m`: modules are found relative to the working directory.
            sys.path.insert(0, os.getcwd())
            runpy.run_module(entry_module, run_name="__main__", alter_sys=True)
        else:
            runpy.run_path(program, run_name="__main__")  # type: ignore[arg-type]
    finally:
        env_module.StreamExecutionEnvironment.get_execution_environment = original  # type: ignore


@main.command(name="list")
def list_jobs() -> None:
    """Lists jobs on a cluster (comes with the cluster daemons)."""
    click.echo("flink list needs a running cluster; the cluster daemons are not built yet.",
               err=True)
    sys.exit(1)


if __name__ == "__main__":
    main()
