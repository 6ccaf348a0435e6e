from nasrepro import pipeline, smk

smk.start(snakemake)
wc, out = snakemake.wildcards, snakemake.output
pipeline.search(
    snakemake.params.spec, int(wc.seed), {"run_id": wc.run},
    table_path=snakemake.input.table, features_path=snakemake.input.get("features"),
    trajectory_out=out.trajectory, iterations_out=out.iterations, metadata_out=out.metadata,
    mirror=(snakemake.config.get("data") or {}).get("mirror"),
)
