"""The daemons' main programs: JobManager, TaskManager and a TaskManager's slot workers."""
