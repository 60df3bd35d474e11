"""Example Airflow DAG: a weekly loraspace pipeline on a Spark cluster.

Each task is one spark-submit of the same job jar with a different sub-command. Outputs are idempotent: a retried
task with the same parameters republishes the same result, and a downstream task only starts once the upstream
output has its _SUCCESS marker (written last by every loraspace job). Copy into your DAGs folder and adapt paths.
"""

from datetime import datetime

from airflow import DAG
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

JOB_JAR = "/opt/loraspace/loraspace-jobs-0.1.0-SNAPSHOT-job.jar"
BASE = "s3a://ml-platform/loraspace/{{ ds_nodash }}"
COMMON_CONF = {
    "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
}


def loraspace(task_id, command, settings):
    args = [command]
    for key, value in settings.items():
        args += ["--set", f"{key}={value}"]
    return SparkSubmitOperator(
        task_id=task_id,
        application=JOB_JAR,
        java_class="io.loraspace.jobs.Main",
        application_args=args,
        conf=COMMON_CONF,
        packages="org.apache.hadoop:hadoop-aws:3.4.1",
        retries=2,
    )


with DAG("loraspace_weekly", start_date=datetime(2026, 1, 1), schedule="@weekly", catchup=False) as dag:
    doctor = loraspace("doctor", "doctor", {"out": f"{BASE}/doctor", "tasks": 64})
    corpus = loraspace("synthetic_corpus", "synth-corpus", {"out": f"{BASE}/corpus", "samples": 4096})
    doctor >> corpus
