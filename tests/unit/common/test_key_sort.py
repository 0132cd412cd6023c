"""Keys sort as Flink's BATCH execution sorts them; the expected orders are what PyFlink 2.3
printed (tests/fixtures/pyflink/batch_key_order.txt, parallelism 1)."""

from __future__ import annotations

from flink_py.common.key_sort import serialized_key, sort_key_function
from flink_py.common.typeinfo import Types
from flink_py.runtime.io.sorting_input import SortingInput

WORDS = ["To", "be", "or", "not", "to", "a", "No", "Is", "Be", "zebra", "Zebra", "\u00fcber",
         "\u00dcber", "\u65e5\u672c", "x"]
INTS = [-300, -129, -128, -3, -1, 0, 1, 5, 127, 128, 200, 255, 256, 1000, 32767, -32768]
TYPED_INT_ORDER = [-32768, -300, -128, -3, -1, -129, 128, 200, 255, 0, 1, 5, 127, 256, 1000,
                   32767]


def test_untyped_string_keys_sort_by_their_pickled_bytes() -> None:
    assert sorted(WORDS, key=sort_key_function(None)) == [
        "a", "x", "Be", "Is", "No", "To", "be", "or", "to", "not", "\u00dcber", "\u00fcber",
        "Zebra", "zebra", "\u65e5\u672c"]


def test_string_keys_sort_by_flink_string_serialization() -> None:
    assert sorted(WORDS, key=sort_key_function(Types.STRING())) == [
        "a", "x", "\u65e5\u672c", "Be", "Is", "No", "To", "be", "or", "to", "not", "\u00dcber",
        "\u00fcber", "Zebra", "zebra"]


def test_int_keys_sort_by_signed_bytes() -> None:
    assert sorted(INTS, key=sort_key_function(None)) == [
        128, 200, 255, 0, 1, 5, 127, 1000, 32767, 256, -128, -300, -3, -1, -32768, -129]
    for key_type in (Types.INT(), Types.LONG(), Types.SHORT()):
        assert sorted(INTS, key=sort_key_function(key_type)) == TYPED_INT_ORDER


def test_float_bool_and_tuple_keys_sort_as_pyflink() -> None:
    floats = [-2.5, -1.0, -0.5, 0.0, 0.25, 1.0, 1.5, 3.0, 100.0]
    assert sorted(floats, key=sort_key_function(Types.DOUBLE())) == [
        -0.5, -1.0, -2.5, 0.0, 0.25, 1.0, 1.5, 3.0, 100.0]
    assert sorted(floats, key=sort_key_function(Types.FLOAT())) == [
        -1.0, -0.5, -2.5, 0.0, 0.25, 1.0, 1.5, 3.0, 100.0]
    assert sorted([True, False], key=sort_key_function(None)) == [True, False]
    assert sorted([True, False], key=sort_key_function(Types.BOOLEAN())) == [False, True]
    tuples = [(3, "not"), (1, "a"), (2, "\u65e5\u672c"), (2, "Be")]
    assert sorted(tuples, key=sort_key_function(Types.TUPLE([Types.INT(), Types.STRING()]))) \
        == [(1, "a"), (2, "\u65e5\u672c"), (2, "Be"), (3, "not")]


def test_serialized_key_is_the_row_serializers_bytes() -> None:
    # RowSerializer: a mask byte (row kind bits, null bits), then the field
    assert serialized_key(-1, Types.INT()) == b"\x00\xff\xff\xff\xff"
    assert serialized_key("a", Types.STRING()) == b"\x00\x02a"
    assert serialized_key(None, Types.INT()) == b"\x20"
    assert serialized_key("a")[:5] == b"\x00\x00\x00\x00\x10"  # int32 length of the 16-byte pickle


def test_sorting_input_replays_by_key_then_timestamp_keeping_ties_in_order() -> None:
    sorting = SortingInput(lambda r: r[0], Types.STRING(), "keyed")
    sorting.add([("b", 1), ("a", 2)], [20, 10])
    sorting.add([("a", 3), ("b", 4), ("a", 5)], [5, 20, 5])
    replayed = []
    sorting.replay(lambda values, stamps: replayed.append((values, stamps)))
    assert replayed == [([("a", 3), ("a", 5), ("a", 2)], [5, 5, 10]),
                        ([("b", 1), ("b", 4)], [20, 20])]


def test_sorting_input_says_when_each_key_ends() -> None:
    # Flink's BATCH execution fires a key's timers when the current key changes
    sorting = SortingInput(lambda r: r[0], Types.STRING(), "keyed")
    sorting.add([("b", 1), ("a", 2), ("b", 3)], None)
    events = []
    sorting.replay(lambda values, stamps: events.append([v[1] for v in values]),
                   lambda: events.append("key done"))
    assert events == [[2], "key done", [1, 3], "key done"]
