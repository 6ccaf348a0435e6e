rule search:
    input:
        unpack(search_inputs),
    output:
        trajectory="results/runs/{run}/{seed}.parquet",
        iterations="results/runs/{run}/{seed}.iterations.parquet",
        metadata="results/runs/{run}/{seed}.json",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/search/{run}/{seed}.log",
    benchmark:
        "logs/benchmark/search/{run}/{seed}.tsv"
    params:
        spec=search_spec,
    threads: NASREPRO_THREADS
    resources:
        mem_mb=4000,
        runtime=search_runtime,  # minutes: the job's time limit, here and on SLURM (20x its cost estimate, >= 10 min)
        gpu=search_needs_gpu,
    script:
        "../scripts/search.py"
