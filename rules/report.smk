localrules:
    table5,
    budget_table,
    convergence,
    figure5,
    dynamics,


rule collect:
    input:
        run_files,
    output:
        summary="results/{experiment}/summary.parquet",
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
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


rule budget_table:
    input:
        summary="results/{experiment}/summary.parquet",
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
        script=f"{workflow.basedir}/scripts/budget_table.py",
    output:
        csv=report("results/{experiment}/{table}.csv", caption="../report/budget_table.rst", category="Tables 1-4", labels={"experiment": "{experiment}", "table": "{table}", "format": "csv"}),
        md=report("results/{experiment}/{table}.md", caption="../report/budget_table.rst", category="Tables 1-4", labels={"experiment": "{experiment}", "table": "{table}", "format": "markdown"}),
    wildcard_constraints:
        table="table[1-4]",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/{table}/{experiment}.log",
    params:
        config=config,
    script:
        "../scripts/budget_table.py"


rule convergence:
    input:
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
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
        panels="benchmark",
    script:
        "../scripts/convergence.py"


rule figure5:
    input:
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
        script=f"{workflow.basedir}/scripts/convergence.py",
    output:
        png=report("results/{experiment}/figures/figure5.png", caption="../report/figure5.rst", category="Figure 5", labels={"experiment": "{experiment}", "format": "png"}),
        pdf="results/{experiment}/figures/figure5.pdf",
        csv="results/{experiment}/figures/figure5.csv",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/figure5/{experiment}.log",
    params:
        config=config,
        panels="predictor",
    script:
        "../scripts/convergence.py"


rule dynamics:
    input:
        iterations="results/{experiment}/iterations.parquet",
        script=f"{workflow.basedir}/scripts/dynamics.py",
    output:
        png=report("results/{experiment}/figures/dynamics.png", caption="../report/dynamics.rst", category="Figure 3", labels={"experiment": "{experiment}", "format": "png"}),
        pdf="results/{experiment}/figures/dynamics.pdf",
        csv="results/{experiment}/figures/dynamics.csv",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/dynamics/{experiment}.log",
    params:
        config=config,
    script:
        "../scripts/dynamics.py"
