localrules:
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
        expected=lambda wc: PLAN.expected(wc.experiment),
    resources:
        mem_mb=4000,
    script:
        "../scripts/collect.py"


# One rule per output of the registry (nasrepro.render.OUTPUTS): its files, code and caption are declared there.
for declared in OUTPUTS.values():

    rule:
        name:
            f"render_{declared.name}"
        input:
            unpack(render_inputs(declared)),
            code=renderer(*declared.code),
        output:
            **render_outputs(declared),
        localrule: True
        conda:
            "../envs/nasrepro.yaml"
        log:
            f"logs/render/{{experiment}}/{declared.name}.log",
        params:
            output=declared.name,
            view=lambda wc: render_view(config, wc.experiment),
            extra=lambda wc, declared=declared: {"unavailable": unavailable(wc.experiment)} if declared.paper_only else {},
            caption=declared.caption,
            protocol=lambda wc: protocol_caption(wc.experiment),
        script:
            "../scripts/render.py"


rule embed:
    input:
        features=lambda wc: data_input(f"resources/encodings/{wc.bench}-{wc.encoding}.npy"),
    output:
        "resources/tsne/{bench}-{encoding}.npy",
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/embed/{bench}-{encoding}.log",
    params:
        seed=0,
        features=lambda wc: content_digest(f"resources/encodings/{wc.bench}-{wc.encoding}.npy"),
    threads: 1  # the map is computed on one thread whatever is given (render/embedding.py: TSNE_THREADS)
    resources:
        mem_mb=3000,
    script:
        "../scripts/embed.py"


rule provenance:
    input:
        tables=lambda wc: sorted({f"resources/tables/{b}.parquet" for name in nasrepro_config.enabled_experiments(config) if not unavailable(name) for b in config["experiments"][name]["benchmarks"]}),
        code=renderer("scripts/provenance.py", "src/nasrepro/render/provenance.py"),
    output:
        report("results/provenance.md", caption="../report/provenance.rst", category="Provenance"),
    conda:
        "../envs/nasrepro.yaml"
    log:
        "logs/provenance.log",
    params:
        configfiles=CONFIG_DIGESTS,
        unavailable=lambda wc: {n: unavailable(n) for n in nasrepro_config.enabled_experiments(config) if unavailable(n)},
    script:
        "../scripts/provenance.py"


rule render:
    input:
        all_outputs(),
