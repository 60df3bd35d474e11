"""Weekly EigenLoRAx over the adapter registry, then new adapters projected onto the basis.

The registry export (one PEFT adapter directory per trained adapter, any ranks and alphas) lands under
<root>/adapter-registry/<ds> with _SUCCESS last; adapters trained this week that are not in it yet are under
<root>/incoming/<ds>. Then:

  wait_registry >> recycle >> reconstruct_incoming

- recycle: principal components per (module, A|B) with exact leave-one-out held-out errors (docs/recycle.md).
- reconstruct_incoming: the new adapter's projection onto the basis, as a PEFT adapter directory.
"""

from loraspace_airflow import ROOT, RUN, loraspace, success_marker, weekly_dag

REGISTRY = ROOT + "/adapter-registry/{{ ds }}"
RECYCLE = RUN + "/recycle"

with weekly_dag("loraspace_adapter_recycle") as dag:
    wait_registry = success_marker("wait_registry", REGISTRY)
    recycle = loraspace("recycle", "recycle", {
        "adapters": REGISTRY,
        "components": "0",
        "threshold": "0.9",
        "leave-one-out": "true",
        "out": RECYCLE,
    })
    reconstruct_incoming = loraspace("reconstruct_incoming", "reconstruct", {
        "basis": RECYCLE,
        "adapter": ROOT + "/incoming/{{ ds }}/adapter",
        "out": RUN + "/reconstructed",
    })
    wait_registry >> recycle >> reconstruct_incoming
