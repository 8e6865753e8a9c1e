# scnet rules for GNU make.  In your Makefile:
#
#   SCNET_PPI     = ppi.tsv.gz
#   SCNET_COUNTS  = data/%/filtered_feature_bc_matrix    # % = the sample name
#   include /usr/local/share/scnet/scnet.mk
#   all: $(call scnet_files,donor1 donor2)
#
# Each stage is its own file, so make reruns only what is out of date:
#   $(SCNET_OUT)/S.prep.h5ad    scnet-prep       counts -> normalised, PCA, KNN, aligned PPI
#   $(SCNET_OUT)/S.train.h5ad   scnet-train      embeddings, reconstruction, attention
#   $(SCNET_OUT)/S.prune.h5ad   scnet-prune      attention-pruned cell graph
#   $(SCNET_OUT)/S.scnet.h5ad   scnet-coembed    co-embedded gene network, modules
#   $(SCNET_OUT)/S.scores.tsv   scnet-propagate  gene-set propagation (needs SCNET_GMT)
# $(call scnet_files,SAMPLES) names every stage's file of the samples: as
# targets, each is kept, and a removed one is made again with every later
# stage's.  make does not notice changed options: remove the stage's file to
# redo it.  Naming only the scores as targets makes the stages between
# intermediates, which make deletes after the run (unless your Makefile
# says .SECONDARY:, and then a removed one is not made again).

SCNET_COUNTS         ?= data/%.h5
SCNET_PPI            ?=
SCNET_OBS            ?=
SCNET_GENE_MAP       ?=
SCNET_GMT            ?=
SCNET_OUT            ?= scnet
SCNET_THREADS        ?= $(shell nproc 2>/dev/null || echo 1)
SCNET_BIN            ?=
SCNET_PREP_OPTS      ?=
SCNET_TRAIN_OPTS     ?=
SCNET_PRUNE_OPTS     ?=
SCNET_COEMBED_OPTS   ?= -p 99
SCNET_PROPAGATE_OPTS ?=

scnet_bin = $(if $(SCNET_BIN),$(SCNET_BIN)/)
scnet_files = $(foreach s,$(1),$(addprefix $(SCNET_OUT)/$(s),.prep.h5ad .train.h5ad .prune.h5ad .scnet.h5ad \
    $(if $(SCNET_GMT),.scores.tsv)))
scnet_need = $(if $($(1)),,$(error $(1) is not set: $(2)))

.DELETE_ON_ERROR:

$(SCNET_OUT)/%.prep.h5ad: $(SCNET_COUNTS) $(SCNET_OBS) $(SCNET_GENE_MAP) $(SCNET_PPI)
	$(call scnet_need,SCNET_PPI,the protein-protein interaction edge list)
	@mkdir -p $(@D)
	$(scnet_bin)scnet-prep $< --ppi $(SCNET_PPI) $(if $(SCNET_OBS),--obs $(subst %,$*,$(SCNET_OBS))) \
	    $(if $(SCNET_GENE_MAP),--gene-map $(SCNET_GENE_MAP)) $(SCNET_PREP_OPTS) -t $(SCNET_THREADS) -q -o $@

$(SCNET_OUT)/%.train.h5ad: $(SCNET_OUT)/%.prep.h5ad
	$(scnet_bin)scnet-train $(SCNET_TRAIN_OPTS) -t $(SCNET_THREADS) -q -o $@ $<

$(SCNET_OUT)/%.prune.h5ad: $(SCNET_OUT)/%.train.h5ad
	$(scnet_bin)scnet-prune $(SCNET_PRUNE_OPTS) -t $(SCNET_THREADS) -q -o $@ $<

$(SCNET_OUT)/%.scnet.h5ad: $(SCNET_OUT)/%.prune.h5ad
	$(scnet_bin)scnet-coembed $(SCNET_COEMBED_OPTS) -t $(SCNET_THREADS) -q -o $@ $<

$(SCNET_OUT)/%.scores.tsv: $(SCNET_OUT)/%.scnet.h5ad $(SCNET_GMT)
	$(call scnet_need,SCNET_GMT,the gene sets to propagate (GMT))
	$(scnet_bin)scnet-propagate --gmt $(SCNET_GMT) $(SCNET_PROPAGATE_OPTS) -t $(SCNET_THREADS) -q -o $@ $<
