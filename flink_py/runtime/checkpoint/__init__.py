"""Checkpoints: options, the CheckpointCoordinator, pending and completed checkpoints,
checkpoint storage, the savepoint format and the assignment of state on restore."""
