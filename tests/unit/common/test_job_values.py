"""JobStatus, JobID and JobExecutionResult."""

from __future__ import annotations

import re

import pytest

from flink_py.common.job_execution_result import JobExecutionResult
from flink_py.common.job_id import JobID
from flink_py.common.job_status import JobStatus
from flink_py.errors import InvalidProgramError

HEX = "fd72014d4c864993a2e5a9287b4a9c5d"


def test_job_status_members_are_flinks() -> None:
    assert [s.name for s in JobStatus] == [
        "INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING",
        "CANCELED", "FINISHED", "RESTARTING", "SUSPENDED", "RECONCILING",
    ]
    # PyFlink's integer values.
    assert JobStatus.CREATED.value == 0 and JobStatus.RECONCILING.value == 9


def test_job_status_terminal_states() -> None:
    globally = {s for s in JobStatus if s.is_globally_terminal_state()}
    locally = {s for s in JobStatus if s.is_terminal_state()}
    assert globally == {JobStatus.FAILED, JobStatus.CANCELED, JobStatus.FINISHED}
    assert locally == globally | {JobStatus.SUSPENDED}


def test_job_status_from_name() -> None:
    assert JobStatus.from_name("running") is JobStatus.RUNNING
    with pytest.raises(ValueError, match="Unknown job status 'DONE'; expected one of INITIALIZING"):
        JobStatus.from_name("DONE")


def test_job_id_hex_round_trip_and_value_semantics() -> None:
    job_id = JobID.from_hex_string(HEX)
    assert job_id.to_hex_string() == str(job_id) == HEX
    assert JobID.from_hex_string(HEX.upper()) == job_id
    assert hash(JobID.from_hex_string(HEX)) == hash(job_id)
    assert JobID.from_byte_array(job_id.get_bytes()) == job_id
    assert repr(job_id) == f"JobID('{HEX}')"
    assert job_id.get_upper_part() == int.from_bytes(bytes.fromhex(HEX[:16]), "big", signed=True)
    assert job_id.get_lower_part() == int.from_bytes(bytes.fromhex(HEX[16:]), "big", signed=True)


def test_generated_job_ids_are_32_lowercase_hex_and_distinct() -> None:
    ids = {JobID.generate() for _ in range(100)}
    assert len(ids) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", str(i)) for i in ids)


@pytest.mark.parametrize("bad", ["", "xyz", HEX[:-1], HEX + "0", "g" * 32, None])
def test_job_id_rejects_malformed_hex(bad: object) -> None:
    with pytest.raises(ValueError, match="Cannot parse JobID from .* expected format is"):
        JobID.from_hex_string(bad)  # type: ignore[arg-type]


def test_job_id_rejects_wrong_byte_count() -> None:
    with pytest.raises(ValueError, match="exactly 16 bytes"):
        JobID(b"\x00" * 15)


def test_job_execution_result() -> None:
    result = JobExecutionResult(HEX, 1234, {"lines": 3, "words": [1, 2]})
    assert result.get_job_id() == JobID.from_hex_string(HEX)
    assert result.get_net_runtime() == result.get_net_runtime("ms") == 1234
    assert result.get_accumulator_result("lines") == 3
    assert result.get_accumulator_result("missing") is None
    assert result.get_all_accumulator_results() == {"lines": 3, "words": [1, 2]}
    result.get_all_accumulator_results()["lines"] = 99  # a copy
    assert result.get_accumulator_result("lines") == 3
    assert result.is_job_execution_result() and result.get_job_execution_result() is result
    assert result == JobExecutionResult(JobID.from_hex_string(HEX), 1234, {"lines": 3, "words": [1, 2]})


def test_job_execution_result_string_is_flinks_layout() -> None:
    assert str(JobExecutionResult(HEX, 5)) == (
        "Program execution finished\n"
        f"Job with JobID {HEX} has finished.\n"
        "Job Runtime: 5 ms\n"
    )
    text = JobExecutionResult(HEX, 5, {"lines": 3, "words": [1, 2]}).to_string()
    assert text.endswith(
        "Job Runtime: 5 ms\nAccumulator Results: \n- lines (int): 3\n- words (list) [2 elements]\n\n"
    )


def test_job_execution_result_rejects_bad_arguments() -> None:
    with pytest.raises(InvalidProgramError, match="only milliseconds"):
        JobExecutionResult(HEX, 5).get_net_runtime("s")
    with pytest.raises(InvalidProgramError, match="net_runtime_ms must be an int"):
        JobExecutionResult(HEX, 1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Cannot parse JobID"):
        JobExecutionResult("not-a-job-id", 5)
