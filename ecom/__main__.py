"""The `ecom` command (the console script) and `python -m ecom`."""

import sys


def main() -> None:
    try:
        from ecom.cli import app
    except KeyboardInterrupt:  # Ctrl-C in the second the libraries take to load, before any work
        print("interrupted while starting: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None  # 128 + SIGINT, as every interrupted command ends
    app(prog_name="ecom")


if __name__ == "__main__":
    main()
