"""Wording shared by the messages and tables of several parts."""


def counted(n: int, noun: str) -> str:
    """'1 model', '2 models', '1,024 rows'."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"
