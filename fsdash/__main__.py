"""``python -m fsdash``: see fsdash.cli."""

from fsdash.cli import main

raise SystemExit(main())
