"""The command line: the invoke tasks, by what they are about (tasks.py gathers them)."""
