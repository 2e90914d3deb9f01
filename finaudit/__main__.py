"""`python -m finaudit` runs the command line."""

from finaudit.cli import main

if __name__ == "__main__":
    main()
