"""The input side of a task: the input processor and the checkpoint barrier handlers."""
