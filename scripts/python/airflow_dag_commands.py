"""Loads the example Airflow DAGs without Airflow and prints what each task would run, as JSON.

Airflow is not installable here, so the modules the DAGs import are replaced by small recording stand-ins (DAG,
SparkSubmitOperator, S3KeySensor, `>>` dependencies) that accept only the arguments the real classes accept. Templated
fields are rendered with Jinja2 as Airflow renders them at run time (`ds`, `ds_nodash`, `var.value.get`), with the
logical date and Airflow Variables given on the command line.

usage: airflow_dag_commands.py --date 2026-12-01 [--var key=value]... DAG_FILE...

Output: {"dags": [{"dag_id": ..., "schedule": ..., "tasks": [{"task_id", "kind", "upstream", ...rendered fields}]}]},
tasks in an order that respects every dependency (the order a single worker would run them in).
"""

import argparse
import importlib.util
import json
import os
import sys
import types
from datetime import date

import jinja2

DAGS = []


class _Dag:
    def __init__(self, dag_id, **kwargs):
        unknown = set(kwargs) - {"start_date", "schedule", "catchup", "default_args", "tags", "description"}
        if unknown:
            raise TypeError(f"DAG {dag_id}: unexpected arguments {sorted(unknown)}")
        self.dag_id = dag_id
        self.kwargs = kwargs
        self.tasks = []

    def __enter__(self):
        _Dag.current = self
        return self

    def __exit__(self, *exc):
        _Dag.current = None
        DAGS.append(self)
        return False


_Dag.current = None


class _Task:
    KIND = "task"
    FIELDS = ()
    TEMPLATED = ()
    BASE_FIELDS = {"task_id", "retries", "retry_delay", "owner", "pool", "queue", "trigger_rule", "execution_timeout"}

    def __init__(self, task_id, **kwargs):
        unknown = set(kwargs) - set(self.FIELDS) - self.BASE_FIELDS
        if unknown:
            raise TypeError(f"{type(self).__name__} {task_id}: unexpected arguments {sorted(unknown)}")
        if _Dag.current is None:
            raise RuntimeError(f"task {task_id} created outside a DAG")
        self.task_id = task_id
        self.kwargs = kwargs
        self.upstream = []
        _Dag.current.tasks.append(self)

    def __rshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            o.upstream.append(self)
        return other

    def __rrshift__(self, other):
        for o in other if isinstance(other, (list, tuple)) else [other]:
            self.upstream.append(o)
        return self


class SparkSubmitOperator(_Task):
    KIND = "spark-submit"
    # The real operator's parameters (apache-airflow-providers-apache-spark 4.x/5.x).
    FIELDS = ("application", "conf", "conn_id", "files", "py_files", "archives", "driver_class_path", "jars",
              "java_class", "packages", "exclude_packages", "repositories", "total_executor_cores", "executor_cores",
              "executor_memory", "driver_memory", "keytab", "principal", "proxy_user", "name", "num_executors",
              "status_poll_interval", "application_args", "env_vars", "verbose", "spark_binary", "properties_file",
              "yarn_queue", "deploy_mode")
    TEMPLATED = ("application", "conf", "files", "py_files", "jars", "driver_class_path", "packages",
                 "exclude_packages", "keytab", "principal", "proxy_user", "name", "application_args", "env_vars",
                 "properties_file")


class S3KeySensor(_Task):
    KIND = "s3-key-sensor"
    FIELDS = ("bucket_key", "bucket_name", "wildcard_match", "check_fn", "aws_conn_id", "verify", "deferrable",
              "use_regex", "metadata_keys", "mode", "poke_interval", "timeout", "soft_fail", "exponential_backoff")
    TEMPLATED = ("bucket_key", "bucket_name")


def _install_stubs():
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    module("airflow", DAG=_Dag)
    module("airflow.providers")
    module("airflow.providers.apache")
    module("airflow.providers.apache.spark")
    module("airflow.providers.apache.spark.operators")
    module("airflow.providers.apache.spark.operators.spark_submit", SparkSubmitOperator=SparkSubmitOperator)
    module("airflow.providers.amazon")
    module("airflow.providers.amazon.aws")
    module("airflow.providers.amazon.aws.sensors")
    module("airflow.providers.amazon.aws.sensors.s3", S3KeySensor=S3KeySensor)


class _VarValue:
    def __init__(self, values):
        self._values = values

    def get(self, key, default_var=None):
        return self._values.get(key, default_var)

    def __getattr__(self, key):
        if key in self._values:
            return self._values[key]
        raise KeyError(f"Airflow Variable '{key}' is not set")


def _render(value, env, context):
    if isinstance(value, str):
        return env.from_string(value).render(**context)
    if isinstance(value, list):
        return [_render(v, env, context) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, env, context) for k, v in value.items()}
    return value


def _ordered(tasks):
    done, out = set(), []
    while len(out) < len(tasks):
        ready = [t for t in tasks if t.task_id not in done and all(u.task_id in done for u in t.upstream)]
        if not ready:
            raise RuntimeError("dependency cycle among " + ", ".join(t.task_id for t in tasks if t.task_id not in done))
        for t in ready:
            done.add(t.task_id)
            out.append(t)
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--date", required=True)
    p.add_argument("--var", action="append", default=[])
    p.add_argument("dag_files", nargs="+")
    a = p.parse_args()
    variables = dict(v.split("=", 1) for v in a.var)
    ds = date.fromisoformat(a.date)
    context = {"ds": ds.isoformat(), "ds_nodash": ds.strftime("%Y%m%d"), "var": {"value": _VarValue(variables)}}
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)

    _install_stubs()
    for f in a.dag_files:
        sys.path.insert(0, os.path.dirname(os.path.abspath(f)))
        spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(f))[0], f)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))

    result = {"dags": []}
    for d in DAGS:
        tasks = []
        for t in _ordered(d.tasks):
            fields = {k: (_render(v, env, context) if k in t.TEMPLATED else v) for k, v in t.kwargs.items()
                      if isinstance(v, (str, list, dict, int, float, bool))}
            tasks.append({"task_id": t.task_id, "kind": t.KIND, "upstream": [u.task_id for u in t.upstream],
                          **fields})
        result["dags"].append({"dag_id": d.dag_id, "schedule": d.kwargs.get("schedule"), "tasks": tasks})
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
