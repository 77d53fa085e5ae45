"""The analyst pages: process definitions and their versions, the bpmn-js viewer and
modeler (validate, dry run, deploy), DMN decisions in dmn-js, XML diffs, migration of
running instances and statistics on the diagram. For analysts and admins, logged in
through the UI's session.

| route | view | what |
| --- | --- | --- |
| `GET /analyst/` | `views.index` | every process: versions, who deployed them and when |
| `GET /analyst/processes/<key>` | `views.process` | one process's versions; pick two to diff |
| `GET /analyst/processes/<key>/v<n>` | `views.version` | diagram and statistics `?from=&to=` |
| `GET /analyst/processes/<key>/v<n>.bpmn` | `views.version_xml` | the file, for Camunda Modeler |
| `GET /analyst/processes/<key>/v<n>/statistics.json` | `actions.statistics` | per element |
| `GET /analyst/processes/<key>/diff?from=&to=` | `views.diff` | XML diff of two versions |
| `GET /analyst/processes/<key>/edit` | `views.edit` | the modeler (`?version=n`, default latest) |
| `GET /analyst/decisions/<key>` | `decision_pages.decision` | versions; dmn-js editor |
| `GET /analyst/decisions/<key>/v<n>.dmn` | `decision_pages.decision_xml` | the DMN file |
| `POST /analyst/check` | `actions.check` | BPMN or DMN XML -> problems by element |
| `POST /analyst/deploy` | `actions.deploy` | BPMN or DMN -> new version, or 422: every problem |
| `POST /analyst/dry-run` | `actions.dry_run` | draft + scenario -> the path taken |
| `GET /analyst/migrations` | `instance_migrations.start` | choose process, versions, instances |
| `POST /analyst/migrations/plan`, `/validate`, `/execute` | `instance_migrations.*` | the steps |

The modeler's JavaScript is bundled by `make assets` (npm, esbuild) from `assets/` into
`static/dist/`; pages load it as files (the CSP allows no inline script or style).
"""

from __future__ import annotations

from . import actions, decision_pages, instance_migrations, views  # they add their routes to bp
from .blueprint import bp

__all__ = ["actions", "bp", "decision_pages", "instance_migrations", "views"]
