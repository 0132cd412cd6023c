"""Execution types shared by the TaskExecutor, the JobMaster and the client."""
