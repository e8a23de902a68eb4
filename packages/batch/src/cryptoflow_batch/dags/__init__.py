"""The DAG files (Airflow's dags folder points here): thin wiring of cryptoflow_batch.jobs."""
