# scnet rules for Snakemake.  In your Snakefile:
#
#   configfile: "config.yaml"      # or set config["scnet"] = {...} here
#   include: "/usr/local/share/scnet/scnet.smk"
#   rule all:
#       input: expand("scnet/{sample}.scores.tsv", sample=["donor1", "donor2"])
#
# config["scnet"] keys (defaults below): counts (a path with {sample}), ppi,
# obs, gene_map, gmt, out, bin, and the extra options of each stage:
# prep_opts, train_opts, prune_opts, coembed_opts, propagate_opts.
# Every rule passes its threads to -t; set them with threads (default 4).
#
#   {out}/S.prep.h5ad    scnet-prep       counts -> normalised, PCA, KNN, aligned PPI
#   {out}/S.train.h5ad   scnet-train      embeddings, reconstruction, attention
#   {out}/S.prune.h5ad   scnet-prune      attention-pruned cell graph
#   {out}/S.scnet.h5ad   scnet-coembed    co-embedded gene network, modules
#   {out}/S.scores.tsv   scnet-propagate  gene-set propagation

SCNET = {
    "counts": "data/{sample}.h5",
    "ppi": None,
    "obs": "",
    "gene_map": "",
    "gmt": None,
    "out": "scnet",
    "bin": "",
    "threads": 4,
    "prep_opts": "",
    "train_opts": "",
    "prune_opts": "",
    "coembed_opts": "-p 99",
    "propagate_opts": "",
}
SCNET.update(config.get("scnet", {}))
SCNET_OUT = SCNET["out"]
SCNET_BIN = SCNET["bin"] + "/" if SCNET["bin"] else ""


def scnet_need(key, what):
    if not SCNET.get(key):
        raise ValueError(f'config["scnet"]["{key}"] is not set: {what}')
    return SCNET[key]


rule scnet_prep:
    input:
        counts=SCNET["counts"],
        ppi=lambda w: scnet_need("ppi", "the protein-protein interaction edge list"),
        extra=[f for f in (SCNET["obs"], SCNET["gene_map"]) if f],
    output:
        SCNET_OUT + "/{sample}.prep.h5ad",
    params:
        obs=lambda w: "--obs " + SCNET["obs"].format(sample=w.sample) if SCNET["obs"] else "",
        gene_map="--gene-map " + SCNET["gene_map"] if SCNET["gene_map"] else "",
        opts=SCNET["prep_opts"],
    threads: int(SCNET["threads"])
    shell:
        "{SCNET_BIN}scnet-prep {input.counts} --ppi {input.ppi} {params.obs} {params.gene_map}"
        " {params.opts} -t {threads} -q -o {output}"


rule scnet_train:
    input:
        SCNET_OUT + "/{sample}.prep.h5ad",
    output:
        SCNET_OUT + "/{sample}.train.h5ad",
    params:
        opts=SCNET["train_opts"],
    threads: int(SCNET["threads"])
    shell:
        "{SCNET_BIN}scnet-train {params.opts} -t {threads} -q -o {output} {input}"


rule scnet_prune:
    input:
        SCNET_OUT + "/{sample}.train.h5ad",
    output:
        SCNET_OUT + "/{sample}.prune.h5ad",
    params:
        opts=SCNET["prune_opts"],
    threads: int(SCNET["threads"])
    shell:
        "{SCNET_BIN}scnet-prune {params.opts} -t {threads} -q -o {output} {input}"


rule scnet_coembed:
    input:
        SCNET_OUT + "/{sample}.prune.h5ad",
    output:
        SCNET_OUT + "/{sample}.scnet.h5ad",
    params:
        opts=SCNET["coembed_opts"],
    threads: int(SCNET["threads"])
    shell:
        "{SCNET_BIN}scnet-coembed {params.opts} -t {threads} -q -o {output} {input}"


rule scnet_propagate:
    input:
        net=SCNET_OUT + "/{sample}.scnet.h5ad",
        gmt=lambda w: scnet_need("gmt", "the gene sets to propagate (GMT)"),
    output:
        SCNET_OUT + "/{sample}.scores.tsv",
    params:
        opts=SCNET["propagate_opts"],
    threads: int(SCNET["threads"])
    shell:
        "{SCNET_BIN}scnet-propagate --gmt {input.gmt} {params.opts} -t {threads} -q -o {output} {input.net}"
