# Label-free pretraining (arch2vec, CATE): once per space and settings (its seed included), read by every search
# job of a method that declares it (`nasrepro.runs.pretrainings`); it reads only the cell columns of one table.
checkpoint pretrain:
    input:
        table=lambda wc: data_input(f"resources/tables/{pretraining_of(wc)[0]}.parquet"),
    output:
        "resources/pretrained/{name}.npy",
    wildcard_constraints:
        name="[a-z0-9]+-[a-z0-9]+-[0-9a-f]{10}",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/pretrain/{name}.log",
    benchmark:
        "logs/benchmark/pretrain/{name}.tsv"
    params:
        spec=lambda wc: pretraining_of(wc)[1],
        table=lambda wc: content_digest(f"resources/tables/{pretraining_of(wc)[0]}.parquet"),
        code=lambda wc: nasrepro_runs.step_code("pretrain", config["benchmarks"][pretraining_of(wc)[0]]["space"],
                                                pretraining_of(wc)[1]["model"]),
    threads: 2
    resources:
        mem_mb=6000,
    script:
        "../scripts/pretrain.py"
