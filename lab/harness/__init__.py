"""The pytest harness: fixtures for a running lab and helpers that drive programs on hosts."""
