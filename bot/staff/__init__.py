"""Staff accounts: social workers, supervisors and admins (passwords, roles, links)."""
