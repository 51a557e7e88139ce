"""``python -m clipaware.cli``: the same as the ``clipaware`` console script."""

from clipaware.cli import main

main()
