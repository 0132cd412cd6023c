"""Data types of the Table API (``pyflink.table.types``): ``DataTypes.INT()``, ``ROW``, ...

A type knows its SQL string as Flink prints it (``print_schema``: ``BIGINT``, ``STRING``,
``INT NOT NULL``, ``DECIMAL(10, 2)``), its nullability, and the width the tableau print gives
its column (Flink's ``PrintUtils.columnWidthsByType``).
"""

from __future__ import annotations

import datetime
import decimal
from typing import Any, List, Optional, Sequence

from flink_py.errors import FlinkPyError

__all__ = ["DataType", "DataTypes", "RowField", "RowType", "infer_type"]

#: Flink's VARCHAR length of STRING
MAX_LENGTH = 2147483647


class DataType:
    """A logical type and its nullability; subclasses are the type roots."""

    #: the SQL name of the type root, as Flink prints it
    sql_name = ""
    #: the tableau column width of values of this type (None: the maximum, 30)
    print_width: Optional[int] = None

    def __init__(self, nullable: bool = True) -> None:
        self._nullable = nullable

    def not_null(self) -> "DataType":
        """This type, not nullable."""
        return self._copy(False)

    def nullable(self) -> "DataType":
        """This type, nullable."""
        return self._copy(True)

    @property
    def is_nullable(self) -> bool:
        return self._nullable

    def _copy(self, nullable: bool) -> "DataType":
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone._nullable = nullable
        return clone

    def _params(self) -> str:
        return ""

    def sql(self) -> str:
        """The type as Flink's SQL prints it: ``BIGINT``, ``VARCHAR(10) NOT NULL``."""
        text = self.sql_name + self._params()
        return text if self._nullable else text + " NOT NULL"

    #: PyFlink's ``str()`` of the type (its type name)
    type_name = ""

    def __str__(self) -> str:
        return self.type_name or self.sql_name

    def _repr_params(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repr_params()}{str(self._nullable).lower()})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__  # type: ignore

    def __hash__(self) -> int:
        return hash((type(self), self.sql()))

    def same_root(self, other: "DataType") -> bool:
        return type(self) is type(other)


class NullType(DataType):
    """The type of an untyped NULL literal."""

    sql_name = "NULL"


class BooleanType(DataType):
    sql_name = "BOOLEAN"
    print_width = 5


class _IntegerType(DataType):
    precision = 0
    min_value = 0
    max_value = 0

    @property
    def print_width(self) -> int:  # type: ignore[override]
        return self.precision + 1  # with a minus sign


class TinyIntType(_IntegerType):
    sql_name, precision, min_value, max_value = "TINYINT", 3, -128, 127


class SmallIntType(_IntegerType):
    sql_name, precision, min_value, max_value = "SMALLINT", 5, -32768, 32767


class IntType(_IntegerType):
    sql_name, precision, min_value, max_value = "INT", 10, -2 ** 31, 2 ** 31 - 1


class BigIntType(_IntegerType):
    sql_name, precision, min_value, max_value = "BIGINT", 19, -2 ** 63, 2 ** 63 - 1


class FloatType(DataType):
    sql_name = "FLOAT"


class DoubleType(DataType):
    sql_name = "DOUBLE"


class DecimalType(DataType):
    sql_name = "DECIMAL"

    def __init__(self, precision: int = 10, scale: int = 0, nullable: bool = True) -> None:
        super().__init__(nullable)
        if not 1 <= precision <= 38 or not 0 <= scale <= precision:
            raise FlinkPyError(f"DECIMAL({precision}, {scale}): expected a precision of 1 to "
                               f"38 and a scale of 0 to the precision")
        self.precision, self.scale = precision, scale

    def _params(self) -> str:
        return f"({self.precision}, {self.scale})"

    def _repr_params(self) -> str:
        return f"{self.precision}, {self.scale}, "

    @property
    def print_width(self) -> int:  # type: ignore[override]
        return self.precision + 2  # a sign and a point


class VarCharType(DataType):
    sql_name = "VARCHAR"

    def __init__(self, length: int = MAX_LENGTH, nullable: bool = True) -> None:
        super().__init__(nullable)
        self.length = length

    def sql(self) -> str:
        if self.length == MAX_LENGTH:
            return "STRING" if self._nullable else "STRING NOT NULL"
        return super().sql()

    def _params(self) -> str:
        return f"({self.length})"

    def _repr_params(self) -> str:
        return f"{self.length}, "


class CharType(VarCharType):
    sql_name = "CHAR"

    def sql(self) -> str:
        return DataType.sql(self)


class VarBinaryType(DataType):
    sql_name = "BYTES"
    type_name = "VARBINARY"

    def _repr_params(self) -> str:
        return f"{MAX_LENGTH}, "


class DateType(DataType):
    sql_name = "DATE"
    print_width = 10


class TimestampType(DataType):
    """``TIMESTAMP(p)``: a date-time without a zone, a naive ``datetime.datetime``."""

    sql_name = "TIMESTAMP"

    def __init__(self, precision: int = 6, nullable: bool = True,
                 time_attribute: Optional[str] = None) -> None:
        super().__init__(nullable)
        self.precision = precision
        #: "ROWTIME" or "PROCTIME" for a time attribute (Flink prints ``*ROWTIME*``)
        self.time_attribute = time_attribute

    def _params(self) -> str:
        return f"({self.precision})"

    def sql(self) -> str:
        text = super().sql()
        if self.time_attribute and self.__dict__.get("shown", True):
            return f"{text} *{self.time_attribute}*"
        return text

    def as_time_attribute(self, kind: Optional[str], shown: bool = True) -> "TimestampType":
        """This type marked as a rowtime or proctime attribute (None: a plain type);
        ``shown`` False for a batch table's rowtime, which Flink does not print as one."""
        clone = self._copy(self._nullable)
        clone.time_attribute = kind  # type: ignore[attr-defined]
        clone.shown = shown  # type: ignore[attr-defined]
        return clone  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return (type(self) is type(other) and self.precision == other.precision  # type: ignore
                and self._nullable == other._nullable)  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), self.precision, self._nullable))

    def _repr_params(self) -> str:
        return f"{self.precision}, "

    @property
    def print_width(self) -> int:  # type: ignore[override]
        p = self.precision
        return 19 if p == 0 else 23 if p <= 3 else 26 if p <= 6 else 29


class LocalZonedTimestampType(TimestampType):
    """``TIMESTAMP_LTZ(p)``: an instant, a ``datetime.datetime`` in UTC; it prints in the
    session time zone (``table.local-time-zone``)."""

    sql_name = "TIMESTAMP_LTZ"
    type_name = "LOCALZONEDTIMESTAMP"


class DayTimeIntervalType(DataType):
    """``INTERVAL SECOND(3)`` and the other day-time intervals: a ``datetime.timedelta``."""

    sql_name = "INTERVAL SECOND(3)"
    print_width = 30

    def __init__(self, nullable: bool = True, unit: str = "SECOND") -> None:
        super().__init__(nullable)
        self.unit = unit

    def sql(self) -> str:
        name = {"DAY": "INTERVAL DAY(2)", "HOUR": "INTERVAL HOUR(2)",
                "MINUTE": "INTERVAL MINUTE(2)"}.get(self.unit, "INTERVAL SECOND(3)")
        return name if self._nullable else name + " NOT NULL"


class YearMonthIntervalType(DataType):
    """``INTERVAL MONTH`` / ``INTERVAL YEAR``: a number of months (an ``int``)."""

    sql_name = "INTERVAL MONTH"


class RowField:
    """A named field of a :class:`RowType` (``DataTypes.FIELD``)."""

    def __init__(self, name: str, data_type: DataType, description: Optional[str] = None
                 ) -> None:
        if not isinstance(data_type, DataType):
            raise FlinkPyError(f"field {name!r}: expected a DataType, got {data_type!r}")
        self.name, self.data_type, self.description = name, data_type, description

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, RowField) and self.name == other.name
                and self.data_type == other.data_type)

    def __hash__(self) -> int:
        return hash((self.name, self.data_type))

    def __repr__(self) -> str:
        return f"RowField({self.name}, {self.data_type!r})"


class RowType(DataType):
    sql_name = "ROW"

    def __init__(self, fields: Sequence[RowField], nullable: bool = True) -> None:
        super().__init__(nullable)
        self.fields: List[RowField] = list(fields)

    def field_names(self) -> List[str]:
        return [f.name for f in self.fields]

    def field_types(self) -> List[DataType]:
        return [f.data_type for f in self.fields]

    def __repr__(self) -> str:
        return "RowType(" + ", ".join(f"RowField({f.name}, {f.data_type!r}, ...)"
                                      for f in self.fields) + ")"

    def _params(self) -> str:
        return "<" + ", ".join(f"`{f.name}` {f.data_type.sql()}" for f in self.fields) + ">"


class ArrayType(DataType):
    """``ARRAY<element>`` (so far as a UDAF's accumulator type; no array functions yet)."""
    sql_name = "ARRAY"

    def __init__(self, element_type: DataType, nullable: bool = True) -> None:
        super().__init__(nullable)
        self.element_type = element_type

    def _params(self) -> str:
        return f"<{self.element_type.sql()}>"


class MapType(DataType):
    """``MAP<key, value>`` (so far as a UDAF's accumulator type; no map functions yet)."""
    sql_name = "MAP"

    def __init__(self, key_type: DataType, value_type: DataType, nullable: bool = True
                 ) -> None:
        super().__init__(nullable)
        self.key_type, self.value_type = key_type, value_type

    def _params(self) -> str:
        return f"<{self.key_type.sql()}, {self.value_type.sql()}>"


class DataTypes:
    """The factory of data types, as ``pyflink.table.DataTypes``."""

    @staticmethod
    def BOOLEAN(nullable: bool = True) -> DataType:  # noqa: N802 (PyFlink's names)
        return BooleanType(nullable)

    @staticmethod
    def TINYINT(nullable: bool = True) -> DataType:  # noqa: N802
        return TinyIntType(nullable)

    @staticmethod
    def SMALLINT(nullable: bool = True) -> DataType:  # noqa: N802
        return SmallIntType(nullable)

    @staticmethod
    def INT(nullable: bool = True) -> DataType:  # noqa: N802
        return IntType(nullable)

    @staticmethod
    def BIGINT(nullable: bool = True) -> DataType:  # noqa: N802
        return BigIntType(nullable)

    @staticmethod
    def FLOAT(nullable: bool = True) -> DataType:  # noqa: N802
        return FloatType(nullable)

    @staticmethod
    def DOUBLE(nullable: bool = True) -> DataType:  # noqa: N802
        return DoubleType(nullable)

    @staticmethod
    def DECIMAL(precision: int = 10, scale: int = 0, nullable: bool = True) -> DataType:  # noqa: N802,E501
        return DecimalType(precision, scale, nullable)

    @staticmethod
    def STRING(nullable: bool = True) -> DataType:  # noqa: N802
        return VarCharType(MAX_LENGTH, nullable)

    @staticmethod
    def VARCHAR(length: int = MAX_LENGTH, nullable: bool = True) -> DataType:  # noqa: N802
        return VarCharType(length, nullable)

    @staticmethod
    def CHAR(length: int = 1, nullable: bool = True) -> DataType:  # noqa: N802
        return CharType(length, nullable)

    @staticmethod
    def BYTES(nullable: bool = True) -> DataType:  # noqa: N802
        return VarBinaryType(nullable)

    @staticmethod
    def DATE(nullable: bool = True) -> DataType:  # noqa: N802
        return DateType(nullable)

    @staticmethod
    def TIMESTAMP(precision: int = 6, nullable: bool = True) -> DataType:  # noqa: N802
        return TimestampType(precision, nullable)

    @staticmethod
    def TIMESTAMP_LTZ(precision: int = 6, nullable: bool = True) -> DataType:  # noqa: N802
        return LocalZonedTimestampType(precision, nullable)

    @staticmethod
    def INTERVAL(*args: Any, nullable: bool = True) -> DataType:  # noqa: N802
        return DayTimeIntervalType(nullable)

    @staticmethod
    def FIELD(name: str, data_type: DataType, description: Optional[str] = None  # noqa: N802
              ) -> RowField:
        return RowField(name, data_type, description)

    @staticmethod
    def ROW(row_fields: Sequence[RowField] = (), nullable: bool = True) -> DataType:  # noqa: N802,E501
        return RowType(row_fields, nullable)

    @staticmethod
    def ARRAY(element_type: DataType, nullable: bool = True) -> DataType:  # noqa: N802
        return ArrayType(element_type, nullable)

    @staticmethod
    def MAP(key_type: DataType, value_type: DataType, nullable: bool = True  # noqa: N802
            ) -> DataType:
        return MapType(key_type, value_type, nullable)


def infer_type(value: Any) -> Optional[DataType]:
    """The type ``from_elements`` gives a Python value (as PyFlink's ``_infer_type``: int is
    BIGINT, float DOUBLE, str STRING); None for a None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return BooleanType()
    if isinstance(value, int):
        return BigIntType()
    if isinstance(value, float):
        return DoubleType()
    if isinstance(value, str):
        return VarCharType()
    if isinstance(value, (bytes, bytearray)):
        return VarBinaryType()
    if isinstance(value, decimal.Decimal):
        return DecimalType(38, 18)
    if isinstance(value, datetime.datetime):
        return TimestampType(6)
    if isinstance(value, datetime.date):
        return DateType()
    raise FlinkPyError(f"cannot infer a data type for {value!r} of type "
                       f"{type(value).__name__}: give the schema as DataTypes.ROW(...)")
