rule search:
    input:
        unpack(search_inputs),
    output:
        trajectory="results/runs/{experiment}/{bench}/{method}/{seed}.parquet",
        iterations="results/runs/{experiment}/{bench}/{method}/{seed}.iterations.parquet",
        metadata="results/runs/{experiment}/{bench}/{method}/{seed}.json",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/search/{experiment}/{bench}/{method}/{seed}.log",
    benchmark:
        "logs/benchmark/search/{experiment}/{bench}/{method}/{seed}.tsv"
    params:
        spec=lambda wc: nasrepro_config.run_spec(config, wc.experiment, wc.bench, wc.method),
    threads: NASREPRO_THREADS
    resources:
        mem_mb=4000,
        runtime=120,
        gpu=search_needs_gpu,
    script:
        "../scripts/search.py"
