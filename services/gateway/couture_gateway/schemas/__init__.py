"""Request and response bodies of the REST API, shaped after Airflow's public API v2."""
