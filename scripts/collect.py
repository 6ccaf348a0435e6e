from nasrepro import pipeline, smk

smk.start(snakemake)
pipeline.collect_runs(list(snakemake.input), snakemake.params.run_keys, snakemake.output.summary,
                      snakemake.output.trajectories)
