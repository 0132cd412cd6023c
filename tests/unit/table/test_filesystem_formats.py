"""The filesystem connector's formats: Jackson's CSV record rules and quoting, Flink's
csv/json converters (Java's number parsing), JSON text as Jackson writes it, the changelog
formats, and the source's position (a restored reader resumes after its last record)."""

from __future__ import annotations

import pytest

from flink_py.table import types as t
from flink_py.table.errors import TableException, ValidationException
from flink_py.table.filesystem import (FileRecordSource, FormatError, _CsvSyntax,
                                       _csv_parser, _formatter, _java_double, _java_integer,
                                       _json_parser, _json_string, _lines, check_changelog)
from flink_py.table.catalog import CatalogTable


def test_csv_records_follow_jacksons_quoting_and_line_rules():
    syntax = _CsvSyntax({})
    assert syntax.records('1,"a,b"\r\n2,"say ""hi"""\n3,"two\nlines"\n\n4') == [
        ["1", "a,b"], ["2", 'say "hi"'], ["3", "two\nlines"], [""], ["4"]]
    unclosed = syntax.records('1,"open\n2,b\n')
    assert isinstance(unclosed[-1], FormatError)
    assert str(unclosed[-1]) == "Missing closing quote for value"


def test_csv_options_delimiter_quote_comments_null_literal_and_escape():
    syntax = _CsvSyntax({"field-delimiter": ";", "quote-character": "'",
                         "allow-comments": "true", "null-literal": "n/a",
                         "escape-character": "\\"})
    assert syntax.records("#x;y\n1;'a;b';n/a\n2;a\\;b;'n/a'\n") == [
        ["1", "a;b", None], ["2", "a;b", "n/a"]]  # a quoted null literal stays a string
    assert _CsvSyntax({"disable-quote-character": "true"}).records('"a",b\n') == [
        ['"a"', "b"]]


def test_a_csv_option_of_more_than_one_character_is_refused_with_flinks_message():
    with pytest.raises(ValidationException, match="Option 'csv.field-delimiter' must be a "
                                                  "string with single character, but was: ;;"):
        _CsvSyntax({"field-delimiter": ";;"})


def test_csv_writing_quotes_as_jackson_does():
    line = _CsvSyntax({}).formatter([t.IntType(), t.VarCharType(), t.DoubleType(),
                                     t.BooleanType()])
    assert line((1, "plain-text.ok", 1e7, True)) == "1,plain-text.ok,1.0E7,true"
    # any character up to ',' (space, quote, '#', ...) makes Jackson quote the string
    assert line((2, "a b", -0.0, False)) == '2,"a b",-0.0,false'
    assert line((3, 'say "hi"', None, None)) == '3,"say ""hi""",,'
    assert line((None, "", 0.1, None)) == ",,0.1,"
    piped = _CsvSyntax({"field-delimiter": "|", "null-literal": "N"}).formatter(
        [t.VarCharType(), t.VarCharType()])
    assert piped(("plain", None)) == '"plain"|N'  # '|' is above the letters: all quoted
    assert piped(("", "~")) == "|~"


def test_java_number_parsing():
    assert _java_integer("-5", t.BigIntType()) == -5
    for text, message in [("", 'For input string: ""'), ("1.0", 'For input string: "1.0"'),
                          ("99999999999", 'For input string: "99999999999"')]:
        with pytest.raises(FormatError, match=message):
            _java_integer(text, t.IntType())
    with pytest.raises(FormatError, match='Value out of range. Value:"300" Radix:10'):
        _java_integer("300", t.TinyIntType())
    assert _java_double("  2e3 ", False) == 2000.0
    assert _java_double("1.5f", False) == 1.5
    assert _java_double("-Infinity", False) == float("-inf")
    with pytest.raises(FormatError, match="empty String"):
        _java_double("  ", False)
    with pytest.raises(FormatError, match='For input string: "inf"'):
        _java_double("inf", False)  # Python's spelling is no Java double


def test_csv_rows_convert_fields_as_flinks_converters_do():
    split, parse = _csv_parser(["a", "flag", "s"], [t.IntType(), t.BooleanType(),
                                                    t.VarCharType()], {})
    assert [parse(r) for r in split("1,TRUE, x \n2,yes,\n")] == [(1, True, " x "),
                                                                (2, False, "")]
    with pytest.raises(FormatError, match="Row length mismatch. 3 fields expected but was 2."):
        parse(["1", "true"])
    with pytest.raises(FormatError, match="Fail to deserialize at field: a."):
        parse(["x", "true", ""])
    _, lenient = _csv_parser(["a", "flag", "s"], [t.IntType(), t.BooleanType(),
                                                  t.VarCharType()],
                             {"ignore-parse-errors": "true"})
    assert lenient(["x", "true"]) == (None, True, None)
    assert lenient(["1", "true", "s", "extra"]) is None


def test_json_rows_convert_values_and_skip_or_fail_as_flink_does():
    parse = _json_parser(["a", "b", "x"], [t.IntType(), t.VarCharType(), t.DoubleType()], {})
    assert parse('{"a":"2","b":{"k":[1,2.5e7]},"x":3}') == (2, '{"k":[1,2.5E7]}', 3.0)
    assert parse('{"a":1.7,"b":true}') == (1, "true", None)
    assert parse("   ") is None
    with pytest.raises(FormatError, match="Failed to deserialize JSON '\\[1\\]'."):
        parse("[1]")
    lenient = _json_parser(["a"], [t.IntType()], {"ignore-parse-errors": "true"})
    assert lenient('{"a":"zz"}') == (None,)
    assert lenient('{"a":') is None


def test_json_strings_are_escaped_as_jackson_escapes_them():
    assert _json_string('q"\\\n\t\x01é') == '"q\\"\\\\\\n\\t\\u0001é"'


def test_lines_drop_their_terminators():
    assert _lines("a\r\nb\n\nc") == ["a", "b", "", "c"]
    assert _lines("a\n") == ["a"]


def _table(fmt, names=("k", "c"), types=(t.BooleanType(), t.BigIntType())):
    return CatalogTable("default_catalog.default_database.s", list(names), list(types),
                        {"connector": "filesystem", "path": "/tmp/x", "format": fmt})


def test_changelog_formats_write_each_change_as_flink_does():
    canal = _formatter(_table("canal-json"), "canal-json", {})
    debezium = _formatter(_table("debezium-json"), "debezium-json", {})
    assert canal((0, (True, 1))) == '{"data":[{"k":true,"c":1}],"type":"INSERT"}'
    assert canal((1, (True, 1))) == '{"data":[{"k":true,"c":1}],"type":"DELETE"}'
    assert canal((2, (True, 2))) == '{"data":[{"k":true,"c":2}],"type":"INSERT"}'
    assert debezium((3, (None, 2))) == '{"before":{"k":null,"c":2},"after":null,"op":"d"}'
    assert debezium((2, (None, 2))) == '{"before":null,"after":{"k":null,"c":2},"op":"c"}'


def test_an_insert_only_format_refuses_an_updating_query_in_streaming_mode():
    class Aggregate:
        updating, inputs = True, ()

        def describe(self):
            return "GroupAggregate(groupBy=[k])"
    with pytest.raises(TableException, match="Table sink 'default_catalog.default_database.s' "
                                             "doesn't support consuming update changes which "
                                             "is produced by node GroupAggregate"):
        check_changelog(_table("json"), Aggregate(), batch=False)
    check_changelog(_table("json"), Aggregate(), batch=True)
    check_changelog(_table("canal-json"), Aggregate(), batch=False)


class _Context:
    def __init__(self):
        self.emitted = []

    def emit(self, values, timestamps):
        self.emitted.extend(values)


class _RuntimeContext:
    def get_index_of_this_subtask(self):
        return 0

    def get_number_of_parallel_subtasks(self):
        return 1


def _reader(paths):
    split, parse = _csv_parser(["a"], [t.IntType()], {})
    reader = FileRecordSource("src", paths, "utf-8", split, parse)
    reader.runtime_context = _RuntimeContext()
    return reader


def test_a_restored_reader_resumes_after_the_last_record_it_emitted(tmp_path):
    (tmp_path / "a.csv").write_text("1\n2\n3\n")
    (tmp_path / "b.csv").write_text("4\n5\n")
    (tmp_path / ".hidden").write_text("9\n")
    (tmp_path / "_SUCCESS").write_text("")
    first = _reader([str(tmp_path)])
    ctx = _Context()
    first.emit_next(ctx, 2)
    position = first.reader_position()
    assert ctx.emitted == [(1,), (2,)]
    assert position == [[str(tmp_path / "a.csv"), 2], [str(tmp_path / "b.csv"), 0]]
    restored = _reader([str(tmp_path)])
    restored.seek(position)
    ctx = _Context()
    while restored.emit_next(ctx, 2):
        pass
    assert ctx.emitted == [(3,), (4,), (5,)]
