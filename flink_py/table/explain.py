"""``ExplainDetail`` and the explain text of a plan, in Flink's layout: ``== Abstract Syntax
Tree ==`` (Calcite's logical nodes, columns as ``$i``, calls in prefix form ``>($0, 1)``),
``== Optimized Physical Plan ==`` (Flink's physical nodes: ``Calc`` for a projection and
filter, ``GroupAggregate`` behind a hash ``Exchange`` in streaming mode,
``LocalHashAggregate``/``HashAggregate`` in batch mode, ``TableSourceScan``, ``Sink``;
columns by name) and ``== Optimized Execution Plan ==`` (the same nodes, calls in infix
form ``(a > 1)``; a source read by several INSERTs of a statement set printed once, then
``Reused``).

What matches Flink's text (checked against PyFlink 2.3, tests/fixtures/pyflink/
table_explain.py): the headers, the node names and their nesting, and the whole text of
projections and filters of a table or elements and of INSERTs of them. What does not yet:
Calcite's rewrites (a projection pushed below an aggregate, a literal's type suffix), the
optimizer's cost figures (ESTIMATED_COST prints none), the names of aggregate results in
some SQL shapes, and JSON_EXECUTION_PLAN / PLAN_ADVICE (refused as not supported yet).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence, Tuple

from flink_py.table.errors import TableException
from flink_py.table.expressions import (Alias, Call, Cast, ColumnRef, Expression, InputRef,
                                        Literal, Resolved)
from flink_py.table import planner as p

if TYPE_CHECKING:
    from flink_py.table.table_environment import TableEnvironment

__all__ = ["ExplainDetail", "explain_plans", "explain_inserts", "explain_statement"]


class ExplainDetail:
    """The extra details an explain prints (PyFlink's values)."""

    #: the optimizer's estimated cost of each physical node
    ESTIMATED_COST = 0
    #: the changelog mode each physical node produces, e.g. ``changelogMode=[I,UA]``
    CHANGELOG_MODE = 1
    #: the execution plan as JSON
    JSON_EXECUTION_PLAN = 2
    #: the optimizer's advice
    PLAN_ADVICE = 3


_PREFIX = {"plus": "+", "minus": "-", "times": "*", "divide": "/", "mod": "MOD",
           "equals": "=", "not_equals": "<>", "less_than": "<", "less_than_or_equal": "<=",
           "greater_than": ">", "greater_than_or_equal": ">=", "and": "AND", "or": "OR",
           "not": "NOT", "is_null": "IS NULL", "is_not_null": "IS NOT NULL",
           "is_true": "IS TRUE", "is_false": "IS FALSE", "concat": "||",
           "minus_prefix": "-", "upper": "UPPER", "lower": "LOWER",
           "char_length": "CHAR_LENGTH", "abs": "ABS", "coalesce": "COALESCE",
           "case": "CASE"}
_INFIX = {"+", "-", "*", "/", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "||"}
_POSTFIX = {"IS NULL", "IS NOT NULL", "IS TRUE", "IS FALSE"}


def _literal(value: Any, logical: bool) -> str:
    if value is None:
        return "null:NULL" if logical else "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"_UTF-16LE'{value}'" if logical else f"'{value}'"
    if isinstance(value, float):
        from flink_py.table.print_utils import java_double_string
        return java_double_string(value)
    return str(value)


def _render(e: Expression, names: Sequence[str], style: str) -> str:
    """``e`` as Flink prints it: ``style`` 'ast' (``>($0, 1)``), 'physical' (``>(a, 1)``)
    or 'exec' (``(a > 1)``)."""
    if isinstance(e, Alias):
        return _render(e.child, names, style)
    if isinstance(e, ColumnRef):
        index = _index(names, e.name)
        return f"${index}" if style == "ast" else names[index]
    if isinstance(e, InputRef):
        return f"${e.index}" if style == "ast" else (
            names[e.index] if e.index < len(names) else f"${e.index}")
    if isinstance(e, Literal):
        return _literal(e.value, style == "ast")
    if isinstance(e, Cast):
        return f"CAST({_render(e.child, names, style)} AS {e.data_type.sql()})"
    if isinstance(e, Call):
        op = _PREFIX.get(e.function, e.function.upper())
        args = [_render(a, names, style) for a in e.args]
        if style == "exec" and op in _INFIX and len(args) == 2:
            return f"({args[0]} {op} {args[1]})"
        if style == "exec" and op in _POSTFIX:
            return f"({args[0]} {op})"
        return f"{op}({', '.join(args)})"
    return repr(e)


def _index(names: Sequence[str], name: str) -> int:
    if name in names:
        return list(names).index(name)
    lowered = [n.lower() for n in names]
    return lowered.index(name.lower()) if name.lower() in lowered else 0


def _expr(r: Resolved, names: Sequence[str], style: str) -> str:
    if r.expr is None:
        return "?"
    return _render(r.expr, r.input_names or names, style)


class _Node:
    def __init__(self, text: str, children: Sequence["_Node"] = ()) -> None:
        self.text, self.children = text, list(children)


def _draw(node: _Node, prefix: str = "", child_prefix: str = "") -> List[str]:
    lines = [prefix + node.text]
    for i, child in enumerate(node.children):
        last = i == len(node.children) - 1
        lines += _draw(child, child_prefix + ("+- " if last else ":- "),
                       child_prefix + ("   " if last else ":  "))
    return lines


def _below(node: p.PlanNode) -> p.PlanNode:
    """A node's input, past the FROM aliases (``Qualify``), which have no node in Flink's."""
    child = node.inputs[0]
    while isinstance(child, p.Qualify):
        child = child.inputs[0]
    return child


class _Explainer:
    def __init__(self, t_env: "TableEnvironment", batch: bool, changelog: bool) -> None:
        self.t_env, self.batch, self.changelog = t_env, batch, changelog

    def source_name(self, node: p.PlanNode) -> str:
        if isinstance(node, p.CatalogSource):
            return ", ".join(node.table.path.split("."))
        ids: Dict[int, int] = self.t_env.__dict__.setdefault("_explain_ids", {})
        if id(node) not in ids:
            ids[id(node)] = len(ids) + 1
        kind = "python-input-format" if isinstance(node, p.Values) else "datastream_source"
        return f"*anonymous_{kind}${ids[id(node)]}*"

    # -- the abstract syntax tree --------------------------------------------------------
    def ast(self, node: p.PlanNode) -> _Node:
        while isinstance(node, p.Qualify):  # a FROM alias: no node of its own
            node = node.inputs[0]
        if isinstance(node, (p.Values, p.CatalogSource, p.StreamSource)):
            return _Node(f"LogicalTableScan(table=[[{self.source_name(node)}]])")
        child = _below(node)
        below = self.ast(child)
        if isinstance(node, p.Project):
            items = ", ".join(f"{n}=[{_expr(r, child.names, 'ast')}]"
                              for n, r in zip(node.names, node.exprs))
            return _Node(f"LogicalProject({items})", [below])
        if isinstance(node, p.Filter):
            return _Node(f"LogicalFilter(condition=[{_expr(node.condition, child.names, 'ast')}])",
                         [below])
        if isinstance(node, p.GroupAggregate):
            group = ", ".join(str(_index(child.names, r.name)) if r.name else "?"
                              for r in node.keys)
            aggs = "".join(f", {n}=[{self.agg_call(a, child.names, 'ast')}]"
                           for n, a in zip(self.agg_names(node), node.aggs))
            return _Node(f"LogicalAggregate(group=[{{{group}}}]{aggs})", [below])
        if isinstance(node, p.Limit):
            offset = f"offset=[{node.offset}], " if node.offset else ""
            return _Node(f"LogicalSort({offset}fetch=[{node.fetch}])".replace(", )", ")"),
                         [below])
        if isinstance(node, p.Sort):
            keys = ", ".join(f"sort{i}=[{_expr(r, child.names, 'ast')}]"
                             for i, (r, _, _) in enumerate(node.keys))
            dirs = ", ".join(f"dir{i}=[{'ASC' if asc else 'DESC'}]"
                             for i, (_, asc, _) in enumerate(node.keys))
            fetch = f", fetch=[{node.fetch}]" if node.fetch is not None else ""
            return _Node(f"LogicalSort({keys}, {dirs}{fetch})", [below])
        return _Node(node.describe(), [below])

    def agg_names(self, node: p.GroupAggregate) -> List[str]:
        names = getattr(node, "_explain_names", None)
        return names or [f"EXPR${i}" for i in range(len(node.aggs))]

    def agg_call(self, a: p.AggSpec, names: Sequence[str], style: str) -> str:
        fn = a.function.upper()
        if a.arg is None:
            return "COUNT()" if style == "ast" else "COUNT(*)"
        distinct = "DISTINCT " if a.distinct else ""
        return f"{fn}({distinct}{_expr(a.arg, names, style)})"

    # -- the physical and execution plans --------------------------------------------------
    def physical(self, node: p.PlanNode, style: str) -> _Node:
        while isinstance(node, p.Qualify):  # a FROM alias: no node of its own
            node = node.inputs[0]
        mode = ", changelogMode=[I]" if self.changelog and style == "physical" else ""
        if isinstance(node, (p.Values, p.CatalogSource, p.StreamSource)):
            return _Node(f"TableSourceScan(table=[[{self.source_name(node)}]], "
                         f"fields=[{', '.join(node.names)}]{mode})")
        if isinstance(node, (p.Project, p.Filter)):
            projection: Optional[p.Project] = node if isinstance(node, p.Project) else None
            condition = node if isinstance(node, p.Filter) else None
            source = _below(node)
            if projection is not None and isinstance(source, p.Filter):
                condition, source = source, _below(source)
            if projection is not None and isinstance(source, p.GroupAggregate) and \
                    _passes_through(projection):
                source._explain_names = projection.names[len(source.keys):]  # type: ignore
                return self.physical(source, style)
            names = source.names
            parts = []
            if projection is not None:
                items = []
                for n, r in zip(projection.names, projection.exprs):
                    text = _expr(r, names, style)
                    items.append(text if text == n else f"{text} AS {n}")
                parts.append(f"select=[{', '.join(items)}]")
            else:
                parts.append(f"select=[{', '.join(names)}]")
            if condition is not None:
                parts.append(f"where=[{_expr(condition.condition, names, style)}]")
            updating = ", changelogMode=[I,UB,UA]" if mode and node.updating else mode
            return _Node(f"Calc({', '.join(parts)}{updating})", [self.physical(source, style)])
        if isinstance(node, p.GroupAggregate):
            return self.aggregate(node, style, mode)
        child = _below(node)
        below = self.physical(child, style)
        if isinstance(node, p.Limit):
            return _Node(f"Limit(offset=[{node.offset}], fetch=[{node.fetch}]{mode})",
                         [_Node(f"Exchange(distribution=[single]{mode})", [below])])
        if isinstance(node, p.Sort):
            keys = ", ".join(f"{_expr(r, child.names, style)} {'ASC' if asc else 'DESC'}"
                             for r, asc, _ in node.keys)
            name = "SortLimit" if node.fetch is not None else "Sort"
            limit = (f", offset=[{node.offset}], fetch=[{node.fetch}]"
                     if node.fetch is not None else "")
            return _Node(f"{name}(orderBy=[{keys}]{limit})",
                         [_Node("Exchange(distribution=[single])", [below])])
        return _Node(node.describe(), [below])

    def aggregate(self, node: p.GroupAggregate, style: str, mode: str) -> _Node:
        child = _below(node)
        keys = [r.name or "?" for r in node.keys]
        names = self.agg_names(node)
        group = f"groupBy=[{', '.join(keys)}], " if keys else ""
        below = self.physical(child, style)
        exchange = f"hash[{', '.join(keys)}]" if keys else "single"
        if not self.batch:
            select = ", ".join(keys + [f"{self.agg_call(a, child.names, style)} AS {n}"
                                       for a, n in zip(node.aggs, names)])
            out_mode = ", changelogMode=[I,UA]" if mode else ""
            return _Node(f"GroupAggregate({group}select=[{select}]{out_mode})",
                         [_Node(f"Exchange(distribution=[{exchange}]{mode})", [below])])
        partial_names = [f"{'count1' if a.arg is None else a.function}${i}"
                         for i, a in enumerate(node.aggs)]
        partial = ", ".join(keys + [f"Partial_{self.agg_call(a, child.names, style)} AS {pn}"
                                    for a, pn in zip(node.aggs, partial_names)])
        final = ", ".join(keys + [f"Final_{a.function.upper()}({pn}) AS {n}"
                                  for a, pn, n in zip(node.aggs, partial_names, names)])
        local = _Node(f"LocalHashAggregate({group}select=[{partial}])", [below])
        return _Node(f"HashAggregate(isMerge=[true], {group}select=[{final}])",
                     [_Node(f"Exchange(distribution=[{exchange}])", [local])])


def _passes_through(project: p.Project) -> bool:
    """Whether a projection over an aggregate only passes its columns on in order."""
    return all(isinstance(r.expr, InputRef) and r.expr.index == i
               or isinstance(r.expr, Alias) and isinstance(r.expr.child, InputRef)
               and r.expr.child.index == i
               for i, r in enumerate(project.exprs)) and \
        len(project.exprs) == len(project.inputs[0].names)


def _reused(trees: List[_Node]) -> List[_Node]:
    """A source scan found in several trees printed once first, with ``(reuse_id=[n])``,
    and ``Reused(reference_id=[n])`` where it is read (Flink's execution plan)."""
    counts: Dict[str, int] = {}

    def count(node: _Node) -> None:
        if node.text.startswith("TableSourceScan(") and not node.children:
            counts[node.text] = counts.get(node.text, 0) + 1
        for child in node.children:
            count(child)
    for tree in trees:
        count(tree)
    shared = [text for text, n in counts.items() if n > 1]
    if not shared:
        return trees
    ids = {text: i + 1 for i, text in enumerate(shared)}

    def replace(node: _Node) -> _Node:
        if node.text in ids and not node.children:
            return _Node(f"Reused(reference_id=[{ids[node.text]}])")
        return _Node(node.text, [replace(child) for child in node.children])
    return [_Node(f"{text}(reuse_id=[{ids[text]}])") for text in shared] + \
        [replace(tree) for tree in trees]


_TWO_PHASE_ADVICE = (
    "[ADVICE] You might want to enable local-global two-phase optimization by configuring "
    "('table.exec.mini-batch.enabled' to 'true', 'table.exec.mini-batch.allow-latency' to a "
    "positive long value, 'table.exec.mini-batch.size' to a positive long value).")


def _with_advice(section: str, batch: bool) -> str:
    """The physical plan section as PLAN_ADVICE prints it: a streaming group aggregation
    gets Flink's advice to enable two-phase aggregation (mini-batch is not built), anything
    else "No available advice..."."""
    if not batch and "GroupAggregate(" in section:
        return (section.replace("GroupAggregate(", "GroupAggregate(advice=[1], ")
                + f"\nadvice[1]: {_TWO_PHASE_ADVICE}\n")
    return section + "\nNo available advice...\n"


def _check_details(extra_details: Sequence[Any]) -> Tuple[bool, bool]:
    for d in extra_details:
        if d == ExplainDetail.JSON_EXECUTION_PLAN:
            raise TableException(f"ExplainDetail {d} (JSON_EXECUTION_PLAN) is not supported "
                                 f"yet")
        if d not in (ExplainDetail.ESTIMATED_COST, ExplainDetail.CHANGELOG_MODE,
                     ExplainDetail.PLAN_ADVICE):
            raise TableException(f"expected ExplainDetail values, got {d!r}")
    return ExplainDetail.ESTIMATED_COST in extra_details, \
        ExplainDetail.CHANGELOG_MODE in extra_details


def _explain(t_env: "TableEnvironment", roots: List[Tuple[Optional[str], p.PlanNode]],
             extra_details: Sequence[Any]) -> str:
    _, changelog = _check_details(extra_details)
    advice = ExplainDetail.PLAN_ADVICE in extra_details
    batch = not t_env._settings.is_streaming_mode()
    explainer = _Explainer(t_env, batch, changelog and not batch)
    sections = []
    physical = "Optimized Physical Plan With Advice" if advice else "Optimized Physical Plan"
    for title, style in (("Abstract Syntax Tree", "ast"), (physical, "physical"),
                         ("Optimized Execution Plan", "exec")):
        trees = []
        for sink, plan in roots:
            if style == "ast":
                tree = explainer.ast(plan)
            else:
                tree = explainer.physical(plan, style)
            if sink is not None:
                fields = ", ".join(plan.names)
                name = "LogicalSink" if style == "ast" else "Sink"
                tree = _Node(f"{name}(table=[{sink}], fields=[{fields}])", [tree])
            trees.append(tree)
        if style == "exec" and len(trees) > 1:
            trees = _reused(trees)
        section = f"== {title} ==\n" + "\n\n".join("\n".join(_draw(tree))
                                                   for tree in trees) + "\n"
        if advice and style == "physical":
            section = _with_advice(section, batch)
        sections.append(section)
    return "\n".join(sections)


def explain_plans(t_env: "TableEnvironment", plans: List[p.PlanNode],
                  extra_details: Sequence[Any]) -> str:
    """The explain text of queries (``Table.explain``)."""
    return _explain(t_env, [(None, plan) for plan in plans], extra_details)


def explain_inserts(t_env: "TableEnvironment", inserts: List[Tuple[str, p.PlanNode]],
                    extra_details: Sequence[Any]) -> str:
    """The explain text of INSERTs (``StatementSet.explain``)."""
    return _explain(t_env, [(t_env._qualified(path), plan) for path, plan in inserts],
                    extra_details)


def explain_statement(t_env: "TableEnvironment", stmt: str, extra_details: Sequence[Any]
                      ) -> str:
    """The explain text of a query or INSERT statement (``explain_sql``)."""
    from sqlglot import exp
    from flink_py.table.sql import parse_statement
    parsed = parse_statement(stmt)
    if isinstance(parsed, exp.Insert):
        from flink_py.table.statement_set import insert_of_sql
        return explain_inserts(t_env, [insert_of_sql(t_env, stmt)], extra_details)
    return explain_plans(t_env, [t_env._sql_plan(parsed)], extra_details)
