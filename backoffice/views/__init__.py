"""The project's own screens inside the admin site: the audit trail
(``audit``) and the supervisors' KPI dashboard (``dashboard``); and the
site root, which sends each role to its work page (``landing``)."""
