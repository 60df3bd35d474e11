"""Weekly data-aware LoRA initialisation from a fresh activation corpus.

The corpus (activation/gradient Parquet in the data contract, e.g. written by scripts/capture/capture_hf.py with
--gradients) lands under <root>/activations/<ds> with _SUCCESS last. Then:

  wait_corpus >> stats >> [init_sc_lora_corda, init_lora_da]

- stats: per-(dataset, site) covariances and per-(dataset, module) Fisher statistics (docs/stats-store.md).
- init_sc_lora_corda: SC-LoRA for β ∈ {0, 0.5, 0.9} from one pass, and CorDA IPA (docs/init.md).
- init_lora_da: LoRA-DA from the gradient statistics (needs lora-da-n, the size of the fine-tuning set).

Each output is a PEFT adapter directory per variant under <root>/runs/<ds>/init-*/, published with _SUCCESS last.
"""

from loraspace_airflow import BASE_MODEL, ROOT, RUN, loraspace, success_marker, weekly_dag

CORPUS = ROOT + "/activations/{{ ds }}"
STATS = RUN + "/stats"

with weekly_dag("loraspace_adapter_init") as dag:
    wait_corpus = success_marker("wait_corpus", CORPUS)
    stats = loraspace("stats", "stats", {"input": CORPUS, "out": STATS})
    init_sc_lora_corda = loraspace("init_sc_lora_corda", "init", {
        "stats": STATS,
        "base": BASE_MODEL,
        "methods": "sc-lora,corda-ipa",
        "betas": "0,0.5,0.9",
        "out": RUN + "/init-sc-lora-corda",
    })
    init_lora_da = loraspace("init_lora_da", "init", {
        "stats": STATS,
        "base": BASE_MODEL,
        "methods": "lora-da",
        "lora-da-n": "{{ var.value.get('loraspace_finetune_samples', '10000') }}",
        "out": RUN + "/init-lora-da",
    })
    wait_corpus >> stats >> [init_sc_lora_corda, init_lora_da]
