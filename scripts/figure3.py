from nasrepro import pipeline, smk

smk.start(snakemake)
out = snakemake.output
pipeline.render_dynamics(snakemake.params.config, snakemake.wildcards.experiment, snakemake.input.iterations,
                         out.png, out.pdf, out.csv)
