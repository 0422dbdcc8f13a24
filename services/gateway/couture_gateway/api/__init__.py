"""HTTP API: Airflow's public REST API v2 under ``/api/v2``, Couture's own under ``/api/couture``."""
