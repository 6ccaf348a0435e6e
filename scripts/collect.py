from nasrepro import pipeline, smk

smk.start(snakemake)
out = snakemake.output
pipeline.collect_runs(list(snakemake.input), snakemake.params.run_keys, out.summary, out.trajectories, out.iterations,
                      expected=snakemake.params.expected)
