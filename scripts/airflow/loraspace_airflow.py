"""Shared pieces of the loraspace example DAGs (copy this file next to them in your DAGs folder).

Every loraspace task is one `spark-submit` of the job jar with a sub-command. What the DAGs rely on:

- Idempotent outputs: a task retried with the same parameters republishes the same result; a run killed at any
  instant is repaired by the next run against the same output (docs/operations.md, "Output protocol"). So `retries`
  is safe; `retry_delay` should exceed the job option `lease-timeout` (30 s) so that a retry on another worker finds
  a dead driver's lease expired instead of waiting for it.
- `_SUCCESS` is written last: sensors wait for it on inputs that other systems produce; between loraspace tasks the
  exit code is enough (0 exactly when `_SUCCESS` was published).
- No credentials in the DAG: S3 access comes from the standard AWS provider chain on the cluster (instance profile,
  web identity, environment); the Spark connection (`spark_default`) and the AWS connection of the sensors are
  Airflow connections.
- Paths are templates rendered at run time: the lake root and the conf directory are Airflow Variables with defaults,
  and every output is under the run's logical date (`{{ ds }}`), so a rerun of a past date writes where it wrote.
"""

from datetime import datetime, timedelta

from airflow import DAG
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JOB_JAR = "{{ var.value.get('loraspace_job_jar', '/opt/loraspace/loraspace-jobs-0.1.0-SNAPSHOT-job.jar') }}"
CONF_DIR = "{{ var.value.get('loraspace_conf_dir', '/opt/loraspace/conf') }}"
ROOT = "{{ var.value.get('loraspace_root', 's3a://ml-platform/loraspace') }}"
BASE_MODEL = "{{ var.value.get('loraspace_base_model', '/mnt/models/base') }}"
RUN = ROOT + "/runs/{{ ds }}"

# spark-submit settings of every task (the cluster's own defaults come from spark-defaults.conf).
SPARK_CONF = {
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
    "spark.task.maxFailures": "4",
}

DEFAULT_ARGS = {
    "owner": "ml-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
}


def weekly_dag(dag_id):
    """A weekly DAG of loraspace tasks (no catch-up: a backfill is an explicit `airflow dags backfill`)."""
    return DAG(dag_id, start_date=datetime(2026, 1, 1), schedule="@weekly", catchup=False,
               default_args=DEFAULT_ARGS, tags=["loraspace"])


def loraspace(task_id, command, settings, conf_files=("cluster.conf", "s3.conf", "pipeline.conf"), **kwargs):
    """One loraspace command as a SparkSubmitOperator: `<command> --conf <CONF_DIR>/<file>... --set key=value...`."""
    args = [command]
    for name in conf_files:
        args += ["--conf", f"{CONF_DIR}/{name}"]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    return SparkSubmitOperator(
        task_id=task_id,
        conn_id="spark_default",
        application=JOB_JAR,
        java_class="io.loraspace.jobs.Main",
        application_args=args,
        conf=SPARK_CONF,
        packages="org.apache.hadoop:hadoop-aws:3.4.1",
        name=f"loraspace-{command}-{task_id}",
        **kwargs,
    )


def success_marker(task_id, prefix, **kwargs):
    """Waits for `<prefix>/_SUCCESS` (an input another system publishes with the same convention)."""
    return S3KeySensor(
        task_id=task_id,
        bucket_key=prefix.replace("s3a://", "s3://", 1) + "/_SUCCESS",
        aws_conn_id="aws_default",
        mode="reschedule",
        poke_interval=300,
        timeout=6 * 3600,
        **kwargs,
    )
