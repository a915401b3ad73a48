"""The summary.json of each run directory, for the table scripts (directories without one are
skipped)."""
import json


def summaries(directories):
    """Yields (directory, summary) for every directory that holds a readable summary.json."""
    for directory in directories:
        try:
            with open(f"{directory}/summary.json") as f:
                yield directory, json.load(f)
        except (FileNotFoundError, NotADirectoryError):
            continue
