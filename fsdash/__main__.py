"""``python -m fsdash``: see fsdash.cli."""

from fsdash.cli import exit_at_once, main

exit_at_once(main())
