"""The project's own screens inside the admin site: the audit trail
(``audit``) and the supervisors' KPI dashboard (``dashboard``)."""
