"""`python -m galley.bench`: see galley.bench.run."""

from galley.bench.run import main

raise SystemExit(main())
