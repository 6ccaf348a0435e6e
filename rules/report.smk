localrules:
    table,
    fair,
    convergence,
    figure1,
    figure3,
    figure4,
    figure5,
    provenance,
    render,


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
        run_keys=lambda wc: PLAN.run_keys(wc.experiment),
    resources:
        mem_mb=4000,
    script:
        "../scripts/collect.py"


rule table:
    input:
        unpack(lambda wc: collected(wc.experiment)),
        code=renderer("scripts/table.py", "src/nasrepro/tables.py"),
    output:
        csv=report("results/{experiment}/tables/{table}.csv", caption="../report/table.rst", category="Tables", subcategory="{table}", labels={"experiment": "{experiment}", "table": "{table}", "format": "csv"}),
        md=report("results/{experiment}/tables/{table}.md", caption="../report/table.rst", category="Tables", subcategory="{table}", labels={"experiment": "{experiment}", "table": "{table}", "format": "markdown"}),
        tex="results/{experiment}/tables/{table}.tex",
    wildcard_constraints:
        table="table[1-5]",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/tables/{experiment}/{table}.log",
    params:
        config=config,
        unavailable=lambda wc: unavailable(wc.experiment),
        protocol=lambda wc: protocol_caption(wc.experiment),
    script:
        "../scripts/table.py"


rule fair:
    input:
        unpack(lambda wc: collected(wc.experiment)),
        code=renderer("scripts/fair.py", "src/nasrepro/tables.py"),
    output:
        csv=report("results/{experiment}/tables/fair.csv", caption="../report/fair.rst", category="Tables", subcategory="fair protocol", labels={"experiment": "{experiment}", "table": "fair", "format": "csv"}),
        md=report("results/{experiment}/tables/fair.md", caption="../report/fair.rst", category="Tables", subcategory="fair protocol", labels={"experiment": "{experiment}", "table": "fair", "format": "markdown"}),
        tex="results/{experiment}/tables/fair.tex",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/tables/{experiment}/fair.log",
    params:
        config=config,
        protocol=lambda wc: protocol_caption(wc.experiment),
    script:
        "../scripts/fair.py"


rule convergence:
    input:
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
        code=renderer("scripts/curves.py", "src/nasrepro/figures/curves.py", "src/nasrepro/figures/style.py"),
    output:
        **figure_outputs("convergence"),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/figures/{experiment}/convergence.log",
    params:
        config=config,
        panels="benchmark",
        protocol=lambda wc: protocol_caption(wc.experiment),
    script:
        "../scripts/curves.py"


use rule convergence as figure1 with:
    output:
        **figure_outputs("figure1"),
    log:
        "logs/figures/{experiment}/figure1.log",
    params:
        config=config,
        panels="figure1",
        protocol=lambda wc: protocol_caption(wc.experiment),


use rule convergence as figure5 with:
    output:
        **figure_outputs("figure5"),
    log:
        "logs/figures/{experiment}/figure5.log",
    params:
        config=config,
        panels="predictor",
        protocol=lambda wc: protocol_caption(wc.experiment),


rule figure3:
    input:
        iterations="results/{experiment}/iterations.parquet",
        code=renderer("scripts/figure3.py", "src/nasrepro/figures/dynamics.py", "src/nasrepro/figures/style.py"),
    output:
        **figure_outputs("figure3"),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/figures/{experiment}/figure3.log",
    params:
        config=config,
        protocol=lambda wc: protocol_caption(wc.experiment),
    script:
        "../scripts/figure3.py"


rule embed:
    input:
        features="resources/encodings/{bench}-{encoding}.npy",
    output:
        "resources/tsne/{bench}-{encoding}.npy",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/embed/{bench}-{encoding}.log",
    params:
        seed=0,
    threads: 1  # the map is computed on one thread whatever is given (figures/embedding.py: TSNE_THREADS)
    resources:
        mem_mb=3000,
    script:
        "../scripts/embed.py"


rule figure4:
    input:
        unpack(figure4_inputs),
        trajectories="results/{experiment}/trajectories.parquet",
        iterations="results/{experiment}/iterations.parquet",
        code=renderer("scripts/figure4.py", "src/nasrepro/figures/embedding.py", "src/nasrepro/figures/style.py"),
    output:
        **figure_outputs("figure4"),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/figures/{experiment}/figure4.log",
    params:
        config=config,
        protocol=lambda wc: protocol_caption(wc.experiment),
    script:
        "../scripts/figure4.py"


rule provenance:
    input:
        tables=lambda wc: sorted({f"resources/tables/{b}.parquet" for name in nasrepro_config.enabled_experiments(config) if not unavailable(name) for b in config["experiments"][name]["benchmarks"]}),
        code=renderer("scripts/provenance.py"),
    output:
        report("results/provenance.md", caption="../report/provenance.rst", category="Provenance"),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/provenance.log",
    params:
        config=config,
        configfiles=[str(f) for f in workflow.configfiles],
        unavailable=lambda wc: {n: unavailable(n) for n in nasrepro_config.enabled_experiments(config) if unavailable(n)},
    script:
        "../scripts/provenance.py"


rule render:
    input:
        all_outputs(),
