"""Tests of Row and RowKind against PyFlink's behaviour (pyflink/common/types.py, 2.x)."""

import copy
import doctest
import pickle

import pytest

import flink_py.common.types as types_module
from flink_py.common.types import Row, RowKind
from flink_py.errors import InvalidFieldReferenceError

# PyFlink's public names, kept as a to-do list: ours must cover them.
PYFLINK_ROW_METHODS = [
    "as_dict", "get_row_kind", "set_row_kind", "set_field_names", "get_fields_by_names",
    "of_kind",
]


def test_covers_pyflink_public_names():
    for name in PYFLINK_ROW_METHODS:
        assert hasattr(Row, name), name
    assert [k.name for k in RowKind] == ["INSERT", "UPDATE_BEFORE", "UPDATE_AFTER", "DELETE"]
    assert [k.value for k in RowKind] == [0, 1, 2, 3]
    assert types_module.__all__ == ["Row", "RowKind"]


def test_docstring_examples():
    result = doctest.testmod(types_module)
    assert result.failed == 0 and result.attempted > 0


# ---------------------------------------------------------------------------------------------
# RowKind
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, text", [
    (RowKind.INSERT, "+I"), (RowKind.UPDATE_BEFORE, "-U"),
    (RowKind.UPDATE_AFTER, "+U"), (RowKind.DELETE, "-D"),
])
def test_row_kind_short_string_and_str(kind, text):
    assert kind.short_string() == text
    assert str(kind) == text
    assert "{}".format(kind) == text
    assert "%s" % kind == text


def test_row_kind_pickles_to_the_same_member():
    assert pickle.loads(pickle.dumps(RowKind.UPDATE_AFTER)) is RowKind.UPDATE_AFTER


# ---------------------------------------------------------------------------------------------
# Construction and access
# ---------------------------------------------------------------------------------------------

def test_positional_row():
    row = Row(1, "a", None)
    assert len(row) == 3
    assert list(row) == [1, "a", None]
    assert row[0] == 1 and row[1] == "a" and row[2] is None
    assert row[-1] is None
    assert row[0:2] == [1, "a"]
    assert row.get_row_kind() is RowKind.INSERT
    assert not hasattr(row, "_fields")


def test_named_row_keeps_argument_order():
    # Current PyFlink keeps the kwargs order (older versions sorted the names).
    row = Row(name="Alice", age=11)
    assert list(row) == ["Alice", 11]
    assert row.name == "Alice" and row.age == 11
    assert row["name"] == "Alice" and row["age"] == 11
    assert row[0] == "Alice" and row[1] == 11


def test_args_and_kwargs_together_are_rejected():
    with pytest.raises(ValueError, match="both args and kwargs"):
        Row(1, name="a")


def test_contains_searches_names_of_named_rows_and_values_of_unnamed_rows():
    named = Row(name="Alice", age=11)
    assert "name" in named
    assert "Alice" not in named
    unnamed = Row("Alice", 11)
    assert "Alice" in unnamed
    assert 11 in unnamed
    assert "name" not in unnamed


def test_unknown_attribute_raises_attribute_error():
    row = Row(name="Alice")
    with pytest.raises(AttributeError):
        row.age
    with pytest.raises(AttributeError):
        Row(1).name
    assert getattr(row, "age", "default") == "default"
    assert not hasattr(Row(1), "name")


def test_attributes_cannot_be_set():
    row = Row(name="Alice")
    with pytest.raises(AttributeError):
        row.name = "Bob"
    with pytest.raises(AttributeError):
        row.other = 1


def test_unknown_name_raises_invalid_field_reference_which_is_a_value_error():
    row = Row(name="Alice")
    with pytest.raises(InvalidFieldReferenceError, match="'age'"):
        row["age"]
    with pytest.raises(ValueError):
        row["age"]
    with pytest.raises(InvalidFieldReferenceError, match="no field names"):
        Row(1)["name"]


def test_index_out_of_range_raises_index_error():
    with pytest.raises(IndexError):
        Row(1, 2)[2]


def test_setitem_by_index_and_name():
    row = Row(name="Alice", age=11)
    row[1] = 12
    row["name"] = "Bob"
    assert list(row) == ["Bob", 12]
    with pytest.raises(InvalidFieldReferenceError):
        row["missing"] = 1
    unnamed = Row(1, 2)
    unnamed[0] = 5
    assert list(unnamed) == [5, 2]


def test_row_kind_can_be_set():
    row = Row(1)
    row.set_row_kind(RowKind.DELETE)
    assert row.get_row_kind() is RowKind.DELETE
    assert row._is_retract_msg() and not row._is_accumulate_msg()
    assert Row(1)._is_accumulate_msg()


def test_of_kind():
    row = Row.of_kind(RowKind.UPDATE_BEFORE, 1, 2)
    assert row.get_row_kind() is RowKind.UPDATE_BEFORE and list(row) == [1, 2]
    named = Row.of_kind(RowKind.UPDATE_AFTER, a=1)
    assert named.a == 1 and named.get_row_kind() is RowKind.UPDATE_AFTER


def test_set_field_names_names_an_unnamed_row():
    row = Row(1, "a")
    row.set_field_names(["id", "name"])
    assert row.id == 1 and row["name"] == "a"
    assert row == Row(id=1, name="a")
    assert repr(row) == "Row(id=1, name='a')"


def test_as_dict():
    row = Row(key=1, value=Row(name="a", age=2), items=[Row(x=1)], mapping={"k": Row(y=2)})
    assert row.as_dict() == {"key": 1, "value": Row(name="a", age=2), "items": [Row(x=1)],
                             "mapping": {"k": Row(y=2)}}
    assert row.as_dict(True) == {"key": 1, "value": {"name": "a", "age": 2},
                                 "items": [{"x": 1}], "mapping": {"k": {"y": 2}}}
    assert list(Row(b=1, a=2).as_dict()) == ["b", "a"]
    with pytest.raises(TypeError, match="Cannot convert a Row class into dict"):
        Row(1).as_dict()


def test_get_fields_by_names():
    row = Row(a=1, b=2, c=3)
    assert row.get_fields_by_names(["c", "a"]) == [3, 1]
    assert row.get_fields_by_names(["a", "b", "c"]) == [1, 2, 3]
    assert Row(1, 2).get_fields_by_names(["x"]) == [1, 2]
    with pytest.raises(InvalidFieldReferenceError, match="'z'"):
        row.get_fields_by_names(["a", "z"])


# ---------------------------------------------------------------------------------------------
# Row as a factory
# ---------------------------------------------------------------------------------------------

def test_row_as_factory():
    Person = Row("name", "age")
    assert "name" in Person
    assert "wrong_key" not in Person
    alice = Person("Alice", 11)
    assert alice == Row(name="Alice", age=11)
    assert alice.name == "Alice" and alice["age"] == 11
    assert repr(alice) == "Row(name='Alice', age=11)"
    assert repr(Person) == "<Row('name', 'age')>"


def test_row_factory_rejects_too_many_values():
    with pytest.raises(ValueError, match="expected 2 values"):
        Row("name", "age")("Alice", 11, "extra")


def test_row_factory_carries_the_factory_kind():
    Person = Row("name")
    Person.set_row_kind(RowKind.DELETE)
    assert Person("x").get_row_kind() is RowKind.DELETE


# ---------------------------------------------------------------------------------------------
# Equality, hashing, repr
# ---------------------------------------------------------------------------------------------

def test_equality_compares_values_and_kind():
    assert Row(1, "a") == Row(1, "a")
    assert Row(1, "a") != Row(1, "b")
    assert Row(1, "a") != Row(1, "a", None)
    deleted = Row(1, "a")
    deleted.set_row_kind(RowKind.DELETE)
    assert deleted != Row(1, "a")
    assert Row(1) != (1,)
    assert Row(1) != [1]


def test_equality_of_named_rows_ignores_field_order_but_not_names():
    assert Row(a=1, b=2) == Row(b=2, a=1)
    assert hash(Row(a=1, b=2)) == hash(Row(b=2, a=1))
    assert Row(a=1, b=2) != Row(a=2, b=1)
    assert Row(a=1) != Row(b=1)
    assert Row(a=1) != Row(1)
    assert Row(1) != Row(a=1)


def test_rows_are_hashable_by_values():
    assert hash(Row(1, "a")) == hash(Row(1, "a"))
    assert len({Row(1, "a"), Row(1, "a"), Row(2, "a")}) == 2
    assert {Row(k=1): "v"}[Row(k=1)] == "v"


@pytest.mark.parametrize("row, text", [
    (Row(name="Alice", age=11), "Row(name='Alice', age=11)"),
    (Row(1, "a", None, 1.5), "<Row(1, 'a', None, 1.5)>"),
    (Row(), "<Row()>"),
    (Row(a=Row(b=1), c=[1, 2]), "Row(a=Row(b=1), c=[1, 2])"),
])
def test_repr_and_str_as_pyflink(row, text):
    assert repr(row) == text
    assert str(row) == text
    assert "{}".format(row) == text


def test_repr_does_not_show_the_kind():
    row = Row(a=1)
    row.set_row_kind(RowKind.DELETE)
    assert repr(row) == "Row(a=1)"


# ---------------------------------------------------------------------------------------------
# Pickling and copying
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickling_keeps_names_values_and_kind(protocol):
    row = Row(name="Alice", age=11)
    row.set_row_kind(RowKind.UPDATE_AFTER)
    restored = pickle.loads(pickle.dumps(row, protocol))
    assert restored == row
    assert restored.name == "Alice"
    assert restored.get_row_kind() is RowKind.UPDATE_AFTER
    assert repr(restored) == "Row(name='Alice', age=11)"

    unnamed = pickle.loads(pickle.dumps(Row(1, [2, 3]), protocol))
    assert unnamed == Row(1, [2, 3])
    assert not hasattr(unnamed, "_fields")


def test_nested_rows_pickle():
    row = Row(outer=Row(inner=1), items=[Row(2)])
    assert pickle.loads(pickle.dumps(row)) == row


def test_copy_and_deepcopy():
    row = Row(a=[1, 2])
    row.set_row_kind(RowKind.DELETE)
    shallow = copy.copy(row)
    deep = copy.deepcopy(row)
    assert shallow == row and deep == row
    assert deep.get_row_kind() is RowKind.DELETE
    deep.a.append(3)
    assert row.a == [1, 2]


def test_copy_is_independent_of_the_original_values_list():
    row = Row(1, 2)
    other = copy.copy(row)
    other[0] = 9
    assert row[0] == 1
