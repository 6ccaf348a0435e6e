localrules:
    table5,
    table4,
    convergence,


rule collect:
    input:
        run_files,
    output:
        summary="results/{experiment}/summary.parquet",
        trajectories="results/{experiment}/trajectories.parquet",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/collect/{experiment}.log",
    params:
        run_keys=lambda wc: [
            {"experiment": wc.experiment, "benchmark": b, "method": m, "seed": s}
            for b, m, s in experiment_runs(wc.experiment)
        ],
    resources:
        mem_mb=4000,
    script:
        "../scripts/collect.py"


rule table5:
    input:
        summary="results/{experiment}/summary.parquet",
        script=f"{workflow.basedir}/scripts/table5.py",
    output:
        csv=report("results/{experiment}/table5.csv", caption="../report/table5.rst", category="Table 5", labels={"experiment": "{experiment}", "format": "csv"}),
        md=report("results/{experiment}/table5.md", caption="../report/table5.rst", category="Table 5", labels={"experiment": "{experiment}", "format": "markdown"}),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/table5/{experiment}.log",
    params:
        config=config,
    script:
        "../scripts/table5.py"


rule table4:
    input:
        summary="results/{experiment}/summary.parquet",
        trajectories="results/{experiment}/trajectories.parquet",
        script=f"{workflow.basedir}/scripts/table4.py",
    output:
        csv=report("results/{experiment}/table4.csv", caption="../report/table4.rst", category="Table 4", labels={"experiment": "{experiment}", "format": "csv"}),
        md=report("results/{experiment}/table4.md", caption="../report/table4.rst", category="Table 4", labels={"experiment": "{experiment}", "format": "markdown"}),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/table4/{experiment}.log",
    params:
        config=config,
    script:
        "../scripts/table4.py"


rule convergence:
    input:
        trajectories="results/{experiment}/trajectories.parquet",
        script=f"{workflow.basedir}/scripts/convergence.py",
    output:
        png=report("results/{experiment}/figures/convergence.png", caption="../report/convergence.rst", category="Convergence", labels={"experiment": "{experiment}", "format": "png"}),
        pdf="results/{experiment}/figures/convergence.pdf",
        csv="results/{experiment}/figures/convergence.csv",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/convergence/{experiment}.log",
    params:
        config=config,
    script:
        "../scripts/convergence.py"
