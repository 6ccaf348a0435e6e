localrules:
    fetch,


rule fetch:
    output:
        "resources/raw/{source}.{ext}",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/fetch/{source}.{ext}.log",
    params:
        source=lambda wc: source_identity(wc.source),  # what the file is; the mirror and retries are how to get it
    retries: 0
    script:
        "../scripts/fetch.py"


# Each data product is made by a checkpoint and read through `data_input` (rules/common.smk); its params hold
# the digests of its code and of what it reads, so it is re-made when either changes, never for a touch.
checkpoint convert:
    input:
        unpack(lambda wc: raw_files(wc.bench)),
    output:
        "resources/tables/{bench}.parquet",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/convert/{bench}.log",
    params:
        bench=lambda wc: nasrepro_runs.benchmark_identity(config['benchmarks'][wc.bench]),
        code=lambda wc: nasrepro_runs.step_code("convert", config["benchmarks"][wc.bench]["space"]),
    resources:
        mem_mb=3000,
    script:
        "../scripts/convert.py"


checkpoint encode:
    input:
        lambda wc: data_input(f"resources/tables/{wc.bench}.parquet"),
    output:
        "resources/encodings/{bench}-{encoding}.npy",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/encode/{bench}-{encoding}.log",
    params:
        table=table_digest,
        code=lambda wc: nasrepro_runs.step_code("encode", config["benchmarks"][wc.bench]["space"]),
    resources:
        mem_mb=2000,
    script:
        "../scripts/encode.py"
