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


rule convert:
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
    resources:
        mem_mb=3000,
    script:
        "../scripts/convert.py"


rule encode:
    input:
        "resources/tables/{bench}.parquet",
    output:
        "resources/encodings/{bench}-{encoding}.npy",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/encode/{bench}-{encoding}.log",
    resources:
        mem_mb=2000,
    script:
        "../scripts/encode.py"
