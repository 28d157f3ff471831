"""``python -m vipmodel`` — see :mod:`vipmodel.cli`."""

from vipmodel.cli import main

raise SystemExit(main())
