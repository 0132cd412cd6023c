"""The MiniCluster with several TaskExecutors in one process."""

from __future__ import annotations

from flink_py.common.job_status import JobStatus
from flink_py.datastream import StreamExecutionEnvironment
from flink_py.runtime.minicluster import MiniCluster


def test_a_keyed_exchange_between_two_task_executors_of_one_process() -> None:
    env = StreamExecutionEnvironment.get_execution_environment()
    env.set_parallelism(2)
    env.from_collection([("a", 1), ("b", 1)] * 50).key_by(lambda t: t[0]).sum(1) \
        .add_sink(lambda value, context=None: None)
    with MiniCluster(num_task_managers=2, slots_per_task_manager=1) as cluster:
        job_id = cluster.dispatcher.submit_job(env.get_job_graph("two task executors"))
        result = cluster.dispatcher.request_job_result(job_id, timeout_s=30)
        master = cluster.dispatcher.job_master(job_id)
        used = {a.resource_id for a in master.task_locations.values()}
    assert result.status is JobStatus.FINISHED, result.failure and result.failure.error.message
    assert len(used) == 2
