"""flink_py's Nexmark generator: the proportions, id spaces and hot keys of nexmark's model,
determinism by event number, and the 'nexmark' connector reading the same rows as the
filesystem connector reads from the generator's JSON files."""

from __future__ import annotations

import collections
import datetime

import pytest

from flink_py.table import EnvironmentSettings, TableEnvironment
from flink_py.table import nexmark
from flink_py.table.errors import TableException, ValidationException


def test_one_person_three_auctions_and_46_bids_in_every_50_events():
    kinds = collections.Counter(nexmark.kind_of(n) for n in range(5000))
    assert kinds == {"person": 100, "auction": 300, "bid": 4600}
    assert [nexmark.kind_of(n) for n in range(5)] == ["person", "auction", "auction",
                                                      "auction", "bid"]


def test_ids_are_dense_from_1000_in_creation_order():
    events = list(nexmark.events(2000))
    people = [e.id for e in events if isinstance(e, nexmark.Person)]
    auctions = [e.id for e in events if isinstance(e, nexmark.Auction)]
    assert people == list(range(1000, 1040))
    assert auctions == list(range(1000, 1120))


def test_bids_refer_to_recent_auctions_and_people_and_half_go_to_the_hot_auction():
    events = list(nexmark.events(20_000))
    bids = [e for e in events if isinstance(e, nexmark.Bid)]
    for n, e in enumerate(events):
        if isinstance(e, nexmark.Bid):
            last_auction = nexmark.last_base0_auction_id(n) + 1000
            assert last_auction - nexmark.NUM_IN_FLIGHT_AUCTIONS <= e.auction \
                <= last_auction + nexmark.AUCTION_ID_LEAD
            assert 1000 <= e.bidder <= nexmark.last_base0_person_id(n) + 1000 + \
                nexmark.PERSON_ID_LEAD
    hot = sum(1 for b in bids if (b.auction - 1000) % nexmark.HOT_AUCTION_RATIO == 0)
    assert 0.45 < hot / len(bids) < 0.6
    assert all(10 <= e.category < 15 for e in events if isinstance(e, nexmark.Auction))
    assert all(e.reserve >= e.initialBid and e.expires > e.dateTime
               for e in events if isinstance(e, nexmark.Auction))


def test_an_event_depends_only_on_its_number_and_the_seed():
    config = nexmark.GeneratorConfig(seed=7)
    assert nexmark.event(1234, config) == nexmark.event(1234, config)
    assert nexmark.event(1234, config) != nexmark.event(1234, nexmark.GeneratorConfig(seed=8))
    assert nexmark.event(4, config).dateTime == datetime.datetime(2026, 1, 1, 0, 0, 0, 40000)
    assert nexmark.GeneratorConfig(rate=1000).timestamp(1001) == \
        datetime.datetime(2026, 1, 1, 0, 0, 1, 1000)


def _bid_rows(t_env, with_clause: str):
    t_env.execute_sql(f"""CREATE TABLE bid (auction BIGINT, bidder BIGINT, price BIGINT,
        channel VARCHAR, url VARCHAR, `dateTime` TIMESTAMP(3), extra VARCHAR) WITH ({with_clause})""")
    with t_env.execute_sql("SELECT * FROM bid").collect() as rows:
        return [tuple(r) for r in rows]


def test_the_nexmark_connector_reads_the_rows_the_json_files_hold(tmp_path):
    paths = nexmark.write_json_files(str(tmp_path), 500, nexmark.GeneratorConfig(seed=3))
    from_files = _bid_rows(TableEnvironment.create(EnvironmentSettings.in_batch_mode()),
                           f"'connector' = 'filesystem', 'path' = '{paths['bid']}', "
                           f"'format' = 'json'")
    generated = _bid_rows(TableEnvironment.create(EnvironmentSettings.in_batch_mode()),
                          "'connector' = 'nexmark', 'table' = 'bid', 'events.num' = '500', "
                          "'seed' = '3'")
    assert generated == from_files == list(nexmark.rows("bid", 500,
                                                        nexmark.GeneratorConfig(seed=3)))
    assert len(generated) == 460


def test_nexmark_options_are_checked():
    def rows(options: str):
        return _bid_rows(TableEnvironment.create(EnvironmentSettings.in_batch_mode()),
                         "'connector' = 'nexmark', " + options)
    with pytest.raises(ValidationException, match="'table' = 'bids': expected one of"):
        rows("'table' = 'bids', 'events.num' = '10'")
    with pytest.raises(ValidationException, match="Unsupported options"):
        rows("'table' = 'bid', 'events.num' = '10', 'rows' = '3'")
    with pytest.raises(TableException, match="unbounded nexmark table"):
        rows("'table' = 'bid'")
    with pytest.raises(ValidationException, match="'seed' = 'x': expected an integer"):
        rows("'table' = 'bid', 'events.num' = '10', 'seed' = 'x'")
