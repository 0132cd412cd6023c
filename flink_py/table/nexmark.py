"""A deterministic Nexmark event generator and the ``'connector' = 'nexmark'`` source.

Our own generator after the model of the Nexmark benchmark (github.com/nexmark/nexmark's
``GeneratorConfig`` / ``NexmarkGenerator``): events are numbered 0, 1, 2, ...; out of every
50 consecutive events 1 is a :class:`Person`, 3 are :class:`Auction` s and 46 are
:class:`Bid` s. Person and auction ids are dense from 1000 (``FIRST_PERSON_ID``,
``FIRST_AUCTION_ID``) in the order they are created; a new auction's seller and a bid's
bidder are one of the last 1000 people (or up to 10 not created yet), a bid's auction one
of the last 100 auctions (or up to 10 not created yet). Hot keys: half the bids go to the
"hot" auction (the latest multiple of 100), a quarter of the auctions are sold by the hot
seller and a quarter of the bids come from the hot bidder (the latest multiple of 100 of
the people, plus one). Prices are ``round(10 ** (6 * u) * 100)`` cents for uniform ``u``.
Event ``n``'s time is ``base-time + n * 1000 / rate`` ms.

Each event is drawn from a ``random.Random`` seeded by ``(seed, n)``, so an event depends
only on its number: the same seed gives the same streams, in any split of the numbers (and
after a restart). The strings (names, ``extra`` padding, urls) are shorter than the
original's byte-size targets. The field names and types are those of the nexmark project's
DDL (:data:`PERSON_SCHEMA`, :data:`AUCTION_SCHEMA`, :data:`BID_SCHEMA`).

The ``nexmark`` SQL connector reads one of the three streams: ``'table' = 'bid'``
(``'person'``, ``'auction'``), ``'events.num'`` (events generated in all; the table holds
its kind's share of them), ``'seed'``, ``'rate'`` (events a second of event time) and
``'base-time'`` (the first event's ``TIMESTAMP``, ``yyyy-MM-dd HH:mm:ss``).
:func:`write_json_files` writes the three streams as JSON lines, one file each, in the
json format's timestamp text, so that Flink's filesystem connector reads the same rows.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import string
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from flink_py.table.errors import TableException, ValidationException

__all__ = ["GeneratorConfig", "Person", "Auction", "Bid", "event", "events", "rows",
           "write_json_files", "source_stream", "PERSON_SCHEMA", "AUCTION_SCHEMA",
           "BID_SCHEMA"]

PERSON_PROPORTION, AUCTION_PROPORTION, BID_PROPORTION = 1, 3, 46
PROPORTION_DENOMINATOR = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION
FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5
NUM_ACTIVE_PEOPLE = 1000
NUM_IN_FLIGHT_AUCTIONS = 100
PERSON_ID_LEAD = 10
AUCTION_ID_LEAD = 10
HOT_AUCTION_RATIO = 100  # the hot auction/seller/bidder: the latest multiple of this
HOT_SELLER_RATIO = 100
HOT_BIDDER_RATIO = 100
# 1 in N is not hot: nexmark-flink's defaults (hotAuctionRatio 2, hotSellersRatio 4, ...)
HOT_AUCTIONS, HOT_SELLERS, HOT_BIDDERS = 2, 4, 4
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")
US_STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
US_CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend",
             "Redmond", "Seattle", "Kent", "Cheyenne")
FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah",
               "Deiter", "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones",
              "Noris")

PERSON_SCHEMA: List[Tuple[str, str]] = [
    ("id", "BIGINT"), ("name", "VARCHAR"), ("emailAddress", "VARCHAR"),
    ("creditCard", "VARCHAR"), ("city", "VARCHAR"), ("state", "VARCHAR"),
    ("dateTime", "TIMESTAMP(3)"), ("extra", "VARCHAR")]
AUCTION_SCHEMA: List[Tuple[str, str]] = [
    ("id", "BIGINT"), ("itemName", "VARCHAR"), ("description", "VARCHAR"),
    ("initialBid", "BIGINT"), ("reserve", "BIGINT"), ("dateTime", "TIMESTAMP(3)"),
    ("expires", "TIMESTAMP(3)"), ("seller", "BIGINT"), ("category", "BIGINT"),
    ("extra", "VARCHAR")]
BID_SCHEMA: List[Tuple[str, str]] = [
    ("auction", "BIGINT"), ("bidder", "BIGINT"), ("price", "BIGINT"), ("channel", "VARCHAR"),
    ("url", "VARCHAR"), ("dateTime", "TIMESTAMP(3)"), ("extra", "VARCHAR")]
SCHEMAS = {"person": PERSON_SCHEMA, "auction": AUCTION_SCHEMA, "bid": BID_SCHEMA}

_LOWER = string.ascii_lowercase


@dataclass(frozen=True)
class GeneratorConfig:
    """The generator's parameters: the seed, events a second (of event time) and the
    first event's time."""

    seed: int = 0
    rate: int = 100
    base_time: datetime.datetime = datetime.datetime(2026, 1, 1)

    def timestamp(self, n: int) -> datetime.datetime:
        """Event ``n``'s time, in whole milliseconds."""
        return self.base_time + datetime.timedelta(milliseconds=(n * 1000) // self.rate)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    emailAddress: str
    creditCard: str
    city: str
    state: str
    dateTime: datetime.datetime
    extra: str


@dataclass(frozen=True)
class Auction:
    id: int
    itemName: str
    description: str
    initialBid: int
    reserve: int
    dateTime: datetime.datetime
    expires: datetime.datetime
    seller: int
    category: int
    extra: str


@dataclass(frozen=True)
class Bid:
    auction: int
    bidder: int
    price: int
    channel: str
    url: str
    dateTime: datetime.datetime
    extra: str


def kind_of(n: int) -> str:
    """``'person'``, ``'auction'`` or ``'bid'``: the kind of event number ``n``."""
    offset = n % PROPORTION_DENOMINATOR
    if offset < PERSON_PROPORTION:
        return "person"
    if offset < PERSON_PROPORTION + AUCTION_PROPORTION:
        return "auction"
    return "bid"


def last_base0_person_id(n: int) -> int:
    """The 0-based id of the last person created at or before event ``n``."""
    epoch, offset = divmod(n, PROPORTION_DENOMINATOR)
    return epoch * PERSON_PROPORTION + min(offset, PERSON_PROPORTION - 1)


def last_base0_auction_id(n: int) -> int:
    """The 0-based id of the last auction created at or before event ``n`` (-1: none)."""
    epoch, offset = divmod(n, PROPORTION_DENOMINATOR)
    if offset < PERSON_PROPORTION:
        return epoch * AUCTION_PROPORTION - 1
    return epoch * AUCTION_PROPORTION + min(offset - PERSON_PROPORTION, AUCTION_PROPORTION - 1)


def _next_base0_person_id(n: int, rng: random.Random) -> int:
    people = last_base0_person_id(n) + 1
    active = min(people, NUM_ACTIVE_PEOPLE)
    return people - active + rng.randrange(active + PERSON_ID_LEAD)


def _next_base0_auction_id(n: int, rng: random.Random) -> int:
    last = max(last_base0_auction_id(n), 0)
    low = max(last - NUM_IN_FLIGHT_AUCTIONS, 0)
    return low + rng.randrange(last - low + 1 + AUCTION_ID_LEAD)


def _price(rng: random.Random) -> int:
    return round(10.0 ** (rng.random() * 6.0) * 100.0)


def _text(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choices(_LOWER, k=rng.randint(low, high)))


def event(n: int, config: GeneratorConfig = GeneratorConfig()) -> Any:
    """Event number ``n`` (a :class:`Person`, :class:`Auction` or :class:`Bid`)."""
    rng = random.Random(config.seed * 1_000_003 + n)
    ts = config.timestamp(n)
    kind = kind_of(n)
    if kind == "person":
        pid = last_base0_person_id(n) + FIRST_PERSON_ID
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        email = f"{_text(rng, 3, 7)}@{_text(rng, 3, 7)}.com"
        card = " ".join(f"{rng.randrange(10000):04d}" for _ in range(4))
        return Person(pid, name, email, card, rng.choice(US_CITIES), rng.choice(US_STATES),
                      ts, _text(rng, 5, 20))
    if kind == "auction":
        aid = last_base0_auction_id(n) + FIRST_AUCTION_ID
        if rng.randrange(HOT_SELLERS) > 0:
            seller = (last_base0_person_id(n) // HOT_SELLER_RATIO) * HOT_SELLER_RATIO
        else:
            seller = _next_base0_person_id(n, rng)
        initial = _price(rng)
        # an auction lasts 1-20 s of event time (the original sizes it by the event rate)
        expires = ts + datetime.timedelta(milliseconds=rng.randint(1000, 20000))
        return Auction(aid, _text(rng, 5, 20), _text(rng, 10, 40), initial,
                       initial + _price(rng), ts, expires, seller + FIRST_PERSON_ID,
                       FIRST_CATEGORY_ID + rng.randrange(NUM_CATEGORIES), _text(rng, 5, 20))
    if rng.randrange(HOT_AUCTIONS) > 0:
        auction = (last_base0_auction_id(n) // HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO
    else:
        auction = _next_base0_auction_id(n, rng)
    if rng.randrange(HOT_BIDDERS) > 0:
        bidder = (last_base0_person_id(n) // HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1
    else:
        bidder = _next_base0_person_id(n, rng)
    price = _price(rng)
    if rng.randrange(2) > 0:
        channel = rng.choice(HOT_CHANNELS)
        url = f"https://www.nexmark.com/{channel.lower()}/item.htm?query=1"
    else:
        number = rng.randrange(10000)
        channel = f"channel-{number}"
        url = f"https://www.nexmark.com/{_text(rng, 5, 5)}/item.htm?query=1&channel_id={number}"
    return Bid(auction + FIRST_AUCTION_ID, bidder + FIRST_PERSON_ID, price, channel, url, ts,
               _text(rng, 5, 20))


def events(count: int, config: GeneratorConfig = GeneratorConfig()) -> Iterator[Any]:
    """Events 0 .. count-1 in order."""
    for n in range(count):
        yield event(n, config)


def numbers_of(kind: str, count: int) -> List[int]:
    """The numbers of the events of ``kind`` among the first ``count``."""
    return [n for n in range(count) if kind_of(n) == kind]


def rows(kind: str, count: int, config: GeneratorConfig = GeneratorConfig()) -> Iterator[tuple]:
    """The rows (tuples in the DDL's column order) of ``kind`` among the first ``count``
    events."""
    for n in numbers_of(kind, count):
        yield tuple(vars(event(n, config)).values())


def _json_timestamp(v: datetime.datetime) -> str:
    # the json format's SQL timestamp text ('timestamp-format.standard' = 'SQL')
    return v.strftime("%Y-%m-%d %H:%M:%S.") + f"{v.microsecond // 1000:03d}"


def write_json_files(directory: str, count: int, config: GeneratorConfig = GeneratorConfig()
                     ) -> Dict[str, str]:
    """Writes the first ``count`` events as ``person.json``, ``auction.json`` and
    ``bid.json`` (JSON lines) in ``directory``; returns each table's file."""
    os.makedirs(directory, exist_ok=True)
    paths = {kind: os.path.join(directory, f"{kind}.json") for kind in SCHEMAS}
    files = {kind: open(path, "w", encoding="utf-8") for kind, path in paths.items()}
    try:
        for n in range(count):
            e = event(n, config)
            record = {k: _json_timestamp(v) if isinstance(v, datetime.datetime) else v
                      for k, v in vars(e).items()}
            files[kind_of(n)].write(json.dumps(record, separators=(",", ":")) + "\n")
    finally:
        for f in files.values():
            f.close()
    return paths


def config_from_options(options: Dict[str, str]) -> Tuple[str, int, GeneratorConfig]:
    """(table kind, events.num, config) from a ``nexmark`` table's options."""
    known = {"connector", "table", "events.num", "seed", "rate", "base-time"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValidationException(
            f"Unsupported options found for 'nexmark'.\n\nUnsupported options:\n\n"
            + "\n".join(unknown) + "\n\nSupported options:\n\n" + "\n".join(sorted(known)))
    kind = options.get("table")
    if kind not in SCHEMAS:
        raise ValidationException(f"nexmark: 'table' = '{kind}': expected one of "
                                  f"{', '.join(SCHEMAS)}")

    def integer(key: str, default: Optional[int]) -> Optional[int]:
        if key not in options:
            return default
        try:
            return int(options[key])
        except ValueError:
            raise ValidationException(f"option '{key}' = '{options[key]}': expected an "
                                      f"integer") from None
    count = integer("events.num", None)
    if count is None:
        raise TableException("an unbounded nexmark table (no 'events.num') is not supported "
                             "yet")
    if count < 1:
        raise ValidationException(f"nexmark: 'events.num' = {count}: expected at least 1")
    rate = integer("rate", 100)
    if rate is None or rate < 1:
        raise ValidationException(f"nexmark: 'rate' = {rate}: expected at least 1")
    base = GeneratorConfig.base_time
    if "base-time" in options:
        try:
            base = datetime.datetime.fromisoformat(options["base-time"])
        except ValueError:
            raise ValidationException(f"nexmark: 'base-time' = '{options['base-time']}': "
                                      f"expected yyyy-MM-dd HH:mm:ss") from None
    return kind, count, GeneratorConfig(integer("seed", 0) or 0, rate, base)


def source_stream(table: Any, env: Any, batch: bool = False) -> Any:
    """The DataStream of a ``nexmark`` table's rows (tuples): its kind's events among the
    first ``events.num``, generated by number from a replayable sequence source."""
    kind, count, config = config_from_options(table.options)
    expected = [name for name, _ in SCHEMAS[kind]]
    if list(table.names) != expected:
        raise ValidationException(f"nexmark: the '{kind}' table's columns must be "
                                  f"{', '.join(expected)}, got {', '.join(table.names)}")
    numbers = numbers_of(kind, count)

    def row_of(i: int) -> tuple:
        return tuple(vars(event(numbers[i], config)).values())
    return env.from_sequence(0, len(numbers) - 1).map(row_of)


def main(argv: Optional[List[str]] = None) -> int:
    """``python -m flink_py.table.nexmark DIR [--events N] [--seed S] [--rate R]``."""
    import argparse
    parser = argparse.ArgumentParser(description="Writes Nexmark's three streams as JSON "
                                                 "lines (person.json, auction.json, bid.json)")
    parser.add_argument("directory")
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=int, default=100)
    args = parser.parse_args(argv)
    paths = write_json_files(args.directory, args.events,
                             GeneratorConfig(args.seed, args.rate))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
