"""The live dashboard: a small read-only web app on the marts."""
