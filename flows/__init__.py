"""Prefect wiring over the `pipeline` library: flows and tasks only, no logic of their own."""
