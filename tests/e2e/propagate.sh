# scnet-propagate on real data: scores against a transcript of the
# reference's propagation (scipy), KEGG pathways over the iRefIndex PPI
# (evaluation, z-scores against random networks), .h5ad output, bad inputs.
source "$(dirname "$0")/lib.sh"
pr=$SCNET_BIN/scnet-propagate
T=$TEST_TMP
TAB=$'\t'
PPI=$SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz
KEGG=$SCNET_DATA/genesets/msigdb_c2.cp.kegg.v7.0.symbols.cogena-renamed.gmt.gz
A=$T/a.h5ad
"$PY" "$SCNET_ROOT/tests/py/embed_fixture.py" "$A" || die "fixture"
"$SCNET_BIN/scnet-coembed" -q -o "$T/net.h5ad" "$A" || die "scnet-coembed"

# scores of two seed sets over the whole PPI, and over the co-embedded
# network, against the reference's loop run by scipy
zcat "$KEGG" | grep -E '^(p53_signaling_pathway|cell_cycle)\s' | sed 's/^p53_signaling_pathway/p53 set/' >"$T/two.gmt"
expect_exit 0 "$pr" --edges "$PPI" --gmt "$T/two.gmt" -o "$T/ppi_scores.tsv"
grep -q 'propagated 2 seed sets over 15404 genes' "$T/stderr" || die "summary: $(cat "$T/stderr")"
grep -q matched "$T/stderr" && die "a note of matching when every seed is named exactly: $(cat "$T/stderr")"
expect_exit 0 "$pr" -g MECOM,ERP44,CENPV,TNNT1 -o "$T/net_scores.tsv" "$T/net.h5ad"
expect_exit 0 "$pr" -q -g MECOM,ERP44,CENPV,TNNT1 --no-normalize -o "$T/net_raw.tsv" "$T/net.h5ad"
# -g adds up (the union), blanks around names go, empty items are no genes,
# and the genes not in the network are named
expect_exit 0 "$pr" -g MECOM,,ERP44 -g ' CENPV , TNNT1,NOTAGENE' -g MECOM -o "$T/net_union.tsv" "$T/net.h5ad"
cmp -s "$T/net_scores.tsv" "$T/net_union.tsv" || die "-g given three times differs from one list"
grep -q '^scnet-propagate: 1 seed gene is not in the network: NOTAGENE$' "$T/stderr" ||
    die "missing seed note: $(cat "$T/stderr")"
# --genes: the same seeds from standard input, a set named "stdin"
printf 'MECOM\n# a comment\nERP44\nCENPV\nTNNT1\n' |
    "$pr" -q --genes - -o "$T/net_stdin.tsv" "$T/net.h5ad" || die "--genes -"
expect_eq "$(head -1 "$T/net_stdin.tsv")" "gene${TAB}stdin" "the header of --genes -"
cmp -s <(tail -n +2 "$T/net_scores.tsv") <(tail -n +2 "$T/net_stdin.tsv") || die "--genes - differs from -g"
expect_exit 0 "$pr" -g TNNT1,G1,G2,G3,G4,G5,G6,G7,G3 -o "$T/net_many.tsv" "$T/net.h5ad"
grep -q '^scnet-propagate: 7 seed genes are not in the network: G1, G2, G3, G4, G5 and 2 more$' "$T/stderr" ||
    die "missing seeds note: $(cat "$T/stderr")"
"$PY" - "$T" "$PPI" <<'PY' || die "scores differ from the reference loop"
import gzip, sys
from pathlib import Path
import numpy as np, scipy.sparse as sp, anndata as ad
t, ppi = sys.argv[1], sys.argv[2]

def reference(W, Y, normalize=True):
    d = np.asarray(W.sum(1)).ravel() + 1e-4
    s = sp.diags(1 / np.sqrt(d))
    Wn = (s @ W @ s).tocsr()
    f, f1 = Y.copy(), np.ones_like(Y)
    while True:
        nf = 0.9 * (Wn @ f) + 0.1 * Y
        nf1 = 0.9 * (Wn @ f1) + 0.1
        if np.linalg.norm(nf - f) <= 1e-4 and (not normalize or np.linalg.norm(nf1 - f1) <= 1e-4):
            return f / f1 if normalize else f
        f, f1 = nf, nf1

def table(path):
    rows = [l.split("\t") for l in Path(path).read_text().splitlines()]
    return rows[0], [r[0] for r in rows[1:]], np.array([[float(x) for x in r[1:]] for r in rows[1:]])

# the PPI, as the program reads it: undirected, no self-loops, largest weight
head, genes, got = table(f"{t}/ppi_scores.tsv")
assert head == ["gene", "cell_cycle", "p53 set"], head
idx = {g: i for i, g in enumerate(genes)}
w = {}
for line in gzip.open(ppi, "rt"):
    a, b, v = line.rstrip("\n").split("\t")[:3]
    if a != b:
        k = (min(idx[a], idx[b]), max(idx[a], idx[b]))
        w[k] = max(w.get(k, 0), float(v))
k = np.array(list(w)); v = np.array(list(w.values()))
W = sp.coo_matrix((np.r_[v, v], (np.r_[k[:, 0], k[:, 1]], np.r_[k[:, 1], k[:, 0]])), shape=(len(genes),) * 2).tocsr()
sets = {l.split("\t")[0]: l.rstrip("\n").split("\t")[2:] for l in Path(f"{t}/two.gmt").read_text().splitlines()}
for c, name in enumerate(head[1:]):
    y = np.zeros(len(genes)); y[[idx[g] for g in sets[name] if g in idx]] = 1
    want = reference(W, y)
    assert np.abs(got[:, c] - want).max() < 1e-9, np.abs(got[:, c] - want).max()
rank = np.argsort(np.argsort(-got[:, 1]))
seeds = [idx[g] for g in sets["p53 set"] if g in idx]
assert np.median(rank[seeds]) < 0.05 * len(genes)   # seeds keep high scores
# the co-embedded network of the fixture (0/1 weights)
a = ad.read_h5ad(f"{t}/net.h5ad")
W = a.varp["scnet_coembed"].astype(np.float64).tocsr()
y = np.isin(a.var_names, ["MECOM", "ERP44", "CENPV", "TNNT1"]).astype(float)
assert y.sum() >= 3
for f, norm in (("net_scores", True), ("net_raw", False)):
    _, g2, got = table(f"{t}/{f}.tsv")
    assert g2 == list(a.var_names)
    assert np.abs(got[:, 0] - reference(W, y, norm)).max() < 1e-9
print("scores match the reference loop")
PY

# KEGG over the PPI: evaluation, reproducible, independent of the other sets
expect_exit 0 "$pr" --edges "$PPI" --gmt "$KEGG" --evaluate --splits 2 -o "$T/eval.tsv"
grep -Eq 'evaluated 186 sets \(2 splits each, held-out genes against all others\): AUROC mean 0\.[789]' \
    "$T/stderr" || die "evaluation summary: $(cat "$T/stderr")"
expect_exit 0 "$pr" -q -t 1 --edges "$PPI" --gmt "$KEGG" --evaluate --splits 2 -o "$T/eval1.tsv"
cmp -s "$T/eval.tsv" "$T/eval1.tsv" || die "evaluation differs with -t 1"
zcat "$KEGG" | sed -n '20p;90p;150p' >"$T/three.gmt"
expect_exit 0 "$pr" -q --edges "$PPI" --gmt "$T/three.gmt" --evaluate --splits 2 -o "$T/eval3.tsv"
"$PY" - "$T" "$PPI" "$KEGG" <<'PY' || die "evaluation table"
import gzip, sys
from pathlib import Path
import numpy as np
t, ppi, kegg = sys.argv[1:4]
nodes = set()
for line in gzip.open(ppi, "rt"):
    a, b = line.split("\t")[:2]
    nodes |= {a, b}
want = {}
for line in gzip.open(kegg, "rt"):
    f = line.rstrip("\n").split("\t")
    k = len(set(f[2:]) & nodes)
    if 5 <= k <= 500:
        want[f[0]] = k
rows = [l.split("\t") for l in Path(f"{t}/eval.tsv").read_text().splitlines()]
assert rows[0] == ["set", "n_genes", "auroc", "aupr"]
got = {r[0]: (int(r[1]), float(r[2]), float(r[3])) for r in rows[1:]}
assert {k: v[0] for k, v in got.items()} == want
auroc = np.array([v[1] for v in got.values()]); aupr = np.array([v[2] for v in got.values()])
assert (auroc > 0).all() and (auroc <= 1).all() and (aupr > 0).all() and (aupr <= 1).all()
assert 0.75 < auroc.mean() < 0.95 and np.median(auroc) > auroc.mean() - 0.1 and aupr.mean() < 0.5
for r in [l.split("\t") for l in Path(f"{t}/eval3.tsv").read_text().splitlines()[1:]]:
    assert got[r[0]][1:] == (float(r[2]), float(r[3])), r     # the same splits alone
print("evaluation: %d sets, mean AUROC %.4f, mean AUPR %.4f" % (len(got), auroc.mean(), aupr.mean()))
PY
# a set is split by the genes it holds, not by the order it lists them in:
# the same sets with their genes reversed, or sorted by name, evaluate alike
"$PY" - "$T" <<'PY' || die "three_rev.gmt, three_sorted.gmt"
import sys
t = sys.argv[1]
sets = [l.rstrip("\n").split("\t") for l in open(f"{t}/three.gmt")]
for name, order in (("rev", lambda g: g[::-1]), ("sorted", sorted)):
    with open(f"{t}/three_{name}.gmt", "w") as f:
        f.writelines("\t".join(s[:2] + order(s[2:])) + "\n" for s in sets)
PY
cmp -s "$T/three.gmt" "$T/three_rev.gmt" && die "three_rev.gmt is three.gmt"
cmp -s "$T/three.gmt" "$T/three_sorted.gmt" && die "three_sorted.gmt is three.gmt"
for v in rev sorted; do
    expect_exit 0 "$pr" -q --edges "$PPI" --gmt "$T/three_$v.gmt" --evaluate --splits 2 -o "$T/eval3_$v.tsv"
    cmp -s "$T/eval3.tsv" "$T/eval3_$v.tsv" || die "genes of a set in another order ($v) changed its evaluation:
$(paste "$T/eval3.tsv" "$T/eval3_$v.tsv")"
done

# a set of no genes is skipped like any set below --min-size, whether a tab
# follows its description or not
{ cat "$T/three.gmt"; printf 'empty1\tdesc\nempty2\tdesc\t\n'; } >"$T/empty.gmt"
expect_exit 0 "$pr" --edges "$PPI" --gmt "$T/empty.gmt" --evaluate --splits 2 -o "$T/eval_empty.tsv"
grep -q "empty.gmt: 3 of 5 sets kept (5 to 500 genes in the network)" "$T/stderr" || die "empty sets: $(cat "$T/stderr")"
cmp -s "$T/eval3.tsv" "$T/eval_empty.tsv" || die "empty sets changed the evaluation"

# the reference's 70/30 rule, and z-scores against random networks
expect_exit 0 "$pr" --edges "$PPI" --gmt "$T/three.gmt" --evaluate --reference-split -o "$T/ref.tsv"
grep -q 'reference 70/30 split' "$T/stderr" || die "reference split summary"
cmp -s "$T/ref.tsv" "$T/eval3.tsv" && die "--reference-split changed nothing"
expect_exit 0 "$pr" -q --edges "$PPI" --gmt "$T/three_rev.gmt" --evaluate --reference-split -o "$T/ref_rev.tsv"
cmp -s "$T/ref.tsv" "$T/ref_rev.tsv" || die "--reference-split depends on the order of a set's genes"
expect_exit 0 "$pr" --edges "$PPI" --gmt "$KEGG" --min-size 60 --max-size 80 --n-random 4 -o "$T/z.tsv"
grep -Eq '4 degree-preserving random networks: mean AUROC 0\.[0-9]+, AUPR 0\.[0-9]+; z-score AUROC [0-9.]+' \
    "$T/stderr" || die "z summary: $(cat "$T/stderr")"
"$PY" - "$T" <<'PY' || die "z-scores"
import sys
from pathlib import Path
import numpy as np
rows = [l.split("\t") for l in Path(f"{sys.argv[1]}/z.tsv").read_text().splitlines()]
assert rows[0][4:] == ["random_auroc_mean", "random_auroc_sd", "z_auroc", "random_aupr_mean", "random_aupr_sd", "z_aupr"]
v = np.array([[float(x) for x in r[1:]] for r in rows[1:]])
n, auroc, rmean, rsd, z = v[:, 0], v[:, 1], v[:, 3], v[:, 4], v[:, 5]
assert len(v) >= 10 and ((n >= 60) & (n <= 80)).all()
assert np.allclose(z, (auroc - rmean) / rsd) and (rsd > 0).all()
assert (z > 0).mean() > 0.8 and auroc.mean() > rmean.mean() + 0.05
print("z-scores: %d sets, median z %.2f" % (len(v), np.median(z)))
PY

# splits that leave nothing to evaluate (the reference's split of a 2-gene
# set draws both genes for training, or neither): left out of the set's
# mean, a set without any split is nan, and the summary and one warning
# count them as the table shows
"$SCNET_BIN/scnet-info" -q --field var/_index "$A" >"$T/names.txt" || die "scnet-info var/_index"
head -n 20 "$T/names.txt" | paste -sd '\t' |
    awk -F'\t' -v OFS='\t' '{print "PAIR", "d", $1, $2; for (k = 0; k < 3; k++) {
        printf "SET%d\td", k; for (i = 3 + 6 * k; i < 9 + 6 * k; i++) printf "\t%s", $i; print ""}}' >"$T/pb.gmt"
[ "$(wc -l <"$T/pb.gmt")" = 4 ] || die "pb.gmt"
ref=(--min-size 2 --gmt "$T/pb.gmt" --evaluate --reference-split --network scnet_ppi)
seen_nan=0 pair_seed=
for seed in 1 2 3 4 5 6 7 8; do
    expect_exit 0 "$pr" "${ref[@]}" --splits 1 --seed $seed -o "$T/pb.tsv" "$A"
    nan=$(grep -c $'\tnan\tnan$' "$T/pb.tsv" || true)
    grep -q $'^PAIR\t2\tnan\tnan$' "$T/pb.tsv" && pair_seed=$seed
    expect_eq "$(wc -l <"$T/pb.tsv")" 5 "rows of the table (seed $seed)"
    if [ "$nan" -gt 0 ]; then
        seen_nan=1
        grep -q "evaluated $((4 - nan)) of 4 sets (1 split each" "$T/stderr" || die "seed $seed, $nan nan: $(cat "$T/stderr")"
        grep -Eq "warning: $nan of 4 splits could not be evaluated \(.*\) and are left out of their set's mean; $nan sets? ha(s|ve) no split left" \
            "$T/stderr" || die "seed $seed, $nan nan rows: no warning saying so: $(cat "$T/stderr")"
    else
        grep -q "evaluated 4 sets" "$T/stderr" || die "seed $seed: $(cat "$T/stderr")"
    fi
    expect_eq "$(grep -c warning "$T/stderr" || true)" "$([ "$nan" -gt 0 ] && echo 1 || echo 0)" "warnings (seed $seed)"
done
[ "$seen_nan" = 1 ] || die "no seed left a set without a split: the check above checked nothing"
# with many splits every set keeps some, and the ones left out are counted
expect_exit 0 "$pr" "${ref[@]}" --splits 20 -o "$T/pb20.tsv" "$A"
grep -q nan "$T/pb20.tsv" && die "a set lost all 20 splits: $(cat "$T/pb20.tsv")"
grep -q "evaluated 4 sets (20 splits each" "$T/stderr" || die "20 splits: $(cat "$T/stderr")"
grep -Eq "warning: [1-9][0-9]* of 80 splits could not be evaluated \([0-9]+ with every gene of the set drawn for training" \
    "$T/stderr" || die "20 splits: no warning: $(cat "$T/stderr")"

[ -n "$pair_seed" ] || die "no seed left PAIR without a split"
head -n 1 "$T/pb.gmt" >"$T/pair.gmt"
expect_exit 1 "$pr" "${ref[@]/pb.gmt/pair.gmt}" --splits 1 --seed $pair_seed -o "$T/pair.tsv" "$A"
grep -Eq "pair.gmt: no set could be evaluated: its one split could not \(1 with (every|no) gene of the set drawn for training" \
    "$T/stderr" || die "no set evaluated: $(cat "$T/stderr")"
expect_eq "$(wc -l <"$T/stderr")" 1 "lines on stderr when no set could be evaluated"
[ ! -e "$T/pair.tsv" ] || die "a run that evaluated no set wrote a table"

# a gene name given twice in var: a warning names the file, the name and
# how many repeat; the seed is its first copy, the table lists both
dupname=$(dup_var_name "$T/net.h5ad" "$T/dup.h5ad") || die "dup.h5ad"
expect_exit 0 "$pr" -g "$dupname" -o "$T/dup.tsv" "$T/dup.h5ad"
grep -q "^scnet-propagate: warning: .*dup.h5ad: 1 gene name in var repeats an earlier one (the first: '$dupname')" \
    "$T/stderr" || die "no warning of the repeated name: $(cat "$T/stderr")"
expect_eq "$(grep -c warning "$T/stderr")" 1 "warnings for one repeated name"
expect_eq "$(grep -c "^$dupname"$'\t' "$T/dup.tsv")" 2 "rows of the repeated name"
expect_exit 0 "$pr" -g "$dupname" -o "$T/nodup.tsv" "$T/net.h5ad"
grep -q warning "$T/stderr" && die "a warning without a repeated name: $(cat "$T/stderr")"

# seed genes named otherwise than the network: human symbols on a
# mouse-cased network match ignoring case, counted in one note for all sets
mc='function mc(s) { return substr(s, 1, 1) tolower(substr(s, 2)) }' # TP53 -> Tp53, as scnet-prep --species mouse
zcat "$PPI" | awk -F'\t' -v OFS='\t' "$mc"' { $1 = mc($1); $2 = mc($2); print }' >"$T/mouse.tsv"
expect_exit 0 "$pr" --edges "$T/mouse.tsv" --gmt "$T/two.gmt" -o "$T/mouse_scores.tsv"
n_two=$(cut -f3- "$T/two.gmt" | tr '\t' '\n' | sort -u | grep -cxFf <(cut -f1 "$T/ppi_scores.tsv"))
grep -q "^scnet-propagate: $n_two seed genes matched ignoring case (e.g. '[A-Z0-9]*' as '[A-Z][a-z0-9]*')$" \
    "$T/stderr" || die "no note of $n_two genes matched ignoring case: $(cat "$T/stderr")"
awk -F'\t' -v OFS='\t' "$mc"' NR > 1 { $1 = mc($1) } { print }' "$T/ppi_scores.tsv" |
    cmp -s - "$T/mouse_scores.tsv" || die "upper-case sets on the mouse-cased network score otherwise"
# a fold two network genes share matches neither; their exact names do.
# Such a seed is said to be ambiguous, once however often it is given, and
# not said to be missing from the network
printf 'Cd4\tLck\nCD4\tZap70\nLck\tZap70\nZap70\tCd8a\n' >"$T/cased.tsv"
amb_cd4="1 seed gene matches more than one network gene ignoring case, so none (e.g. 'cd4': 'Cd4', 'CD4')"
expect_exit 0 "$pr" --edges "$T/cased.tsv" -g cd4,LCK,NOTAGENE -g cd4 -o "$T/fold.tsv"
grep -q "^scnet-propagate: 1 seed gene matched ignoring case (e.g. 'LCK' as 'Lck')$" "$T/stderr" ||
    die "no note of LCK matched ignoring case: $(cat "$T/stderr")"
expect_eq "$(grep -c "more than one" "$T/stderr")" 1 "notes of an ambiguous seed"
grep -qxF "scnet-propagate: $amb_cd4" "$T/stderr" || die "cd4 (Cd4 or CD4?) not said ambiguous: $(cat "$T/stderr")"
grep -qx 'scnet-propagate: 1 seed gene is not in the network: NOTAGENE' "$T/stderr" ||
    die "cd4 said not in the network, or NOTAGENE not: $(cat "$T/stderr")"
expect_exit 0 "$pr" -q --edges "$T/cased.tsv" -g Lck -o "$T/lck.tsv"
cmp -s "$T/fold.tsv" "$T/lck.tsv" || die "LCK differs from Lck"
expect_exit 0 "$pr" --edges "$T/cased.tsv" -g CD4 -o "$T/cd4.tsv"
grep -Eq "matched|more than one" "$T/stderr" && die "CD4 matched otherwise than by its name: $(cat "$T/stderr")"
expect_exit 1 "$pr" --edges "$T/cased.tsv" -g cd4 -o "$T/cd4.tsv"
grep -qxF "scnet-propagate: -g: none of the seed genes matches a single network gene (5 genes of $T/cased.tsv, e.g. 'Cd4'); $amb_cd4" \
    "$T/stderr" || die "cd4 alone: $(cat "$T/stderr")"
expect_exit 1 "$pr" --edges "$T/cased.tsv" -g cd4,Lck --evaluate -o "$T/cd4.tsv"
grep -qxF "scnet-propagate: -g: fewer than two of the seed genes match a single network gene (evaluation holds some out) (5 genes of $T/cased.tsv, e.g. 'Cd4'); $amb_cd4" \
    "$T/stderr" || die "cd4 and Lck to evaluate: $(cat "$T/stderr")"
# gene sets: one note for the seeds of all the sets kept (cD4 is in a set
# skipped by --min-size)
printf 's1\td\tcd4\tLck\tZap70\ns2\td\tcd4\tZAP70\tcd8a\ns3\td\tcD4\tCd8a\n' >"$T/cased.gmt"
expect_exit 0 "$pr" --edges "$T/cased.tsv" --gmt "$T/cased.gmt" --min-size 2 -o "$T/cased_sets.tsv"
grep -q "2 of 3 sets kept" "$T/stderr" || die "cased.gmt: $(cat "$T/stderr")"
expect_eq "$(grep -c "more than one" "$T/stderr")" 1 "notes of ambiguous seeds in gene sets"
grep -qxF "scnet-propagate: $amb_cd4" "$T/stderr" || die "ambiguous seeds of gene sets: $(cat "$T/stderr")"

# Ensembl ids match var['gene_ids'] of an .h5ad (scnet-prep keeps the ids
# it maps to symbols), a version ignored on either side
"$SCNET_BIN/scnet-prep" -q "$SCNET_DATA/tian2019_cellbench/sc_dropseq.count.csv.gz" --ppi "$PPI" \
    --gene-map "$SCNET_DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz" -o "$T/ids.h5ad" || die "ids.h5ad"
mapfile -t id < <("$SCNET_BIN/scnet-info" -q --field var/gene_ids "$T/ids.h5ad" | head -n 3)
mapfile -t sym < <("$SCNET_BIN/scnet-info" -q --field var/_index "$T/ids.h5ad" | head -n 3)
[[ "${id[*]}" =~ ^ENSG[0-9]+\ ENSG[0-9]+\ ENSG[0-9]+$ && "${sym[*]}" != "${id[*]}" ]] || die "ids.h5ad: ${id[*]} / ${sym[*]}"
sym_seeds=${sym[0]},${sym[1]},${sym[2]}
expect_exit 0 "$pr" -q --network scnet_ppi -g "$sym_seeds" -o "$T/by_sym.tsv" "$T/ids.h5ad"
expect_exit 0 "$pr" --network scnet_ppi -g "${id[0]},${id[1]}.12" -g "${id[2]}" -o "$T/by_id.tsv" "$T/ids.h5ad"
grep -q "^scnet-propagate: 3 seed genes matched by var\['gene_ids'\] (e.g. '${id[0]}' as '${sym[0]}')$" \
    "$T/stderr" || die "no note of the genes matched by gene_ids: $(cat "$T/stderr")"
cmp -s "$T/by_sym.tsv" "$T/by_id.tsv" || die "seeds by id score otherwise than by symbol"
printf '%s\n' "${id[@]}" | expect_exit 0 "$pr" -q --network scnet_ppi --genes - -o "$T/by_id_file.tsv" "$T/ids.h5ad"
cmp -s <(tail -n +2 "$T/by_sym.tsv") <(tail -n +2 "$T/by_id_file.tsv") || die "--genes of ids differs"
"$PY" - "$T" <<'PY' || die "ids_v.h5ad, ids_num.h5ad"
import sys, anndata as ad, numpy as np
t = sys.argv[1]
a = ad.read_h5ad(f"{t}/ids.h5ad")
a.var["gene_ids"] = (a.var["gene_ids"] + ".7").astype("category")  # versioned, categorical
a.write_h5ad(f"{t}/ids_v.h5ad")
ids = list(a.var["gene_ids"].astype(str)); ids[1] = ids[0][:-2] + ".8"  # two versions of one id
a.var["gene_ids"] = ids
a.write_h5ad(f"{t}/ids_amb.h5ad")
a.var["gene_ids"] = np.arange(a.n_vars)  # not text: no ids to match
a.write_h5ad(f"{t}/ids_num.h5ad")
PY
expect_exit 0 "$pr" --network scnet_ppi -g "${id[0]},${id[1]}.7,${id[2]}.3" -o "$T/by_id_v.tsv" "$T/ids_v.h5ad"
grep -q "^scnet-propagate: 3 seed genes matched by var\['gene_ids'\] (e.g. '${id[0]}' as '${sym[0]}')$" \
    "$T/stderr" || die "versioned gene_ids: $(cat "$T/stderr")"
cmp -s "$T/by_sym.tsv" "$T/by_id_v.tsv" || die "seeds by versioned id score otherwise than by symbol"
# an id with two versions in var['gene_ids'] finds neither, and is said to
# be ambiguous rather than not in the network
amb_id="1 seed gene matches more than one network gene by var['gene_ids'], so none (e.g. '${id[0]}': '${id[0]}.7', '${id[0]}.8')"
expect_exit 0 "$pr" --network scnet_ppi -g "${id[0]},${sym[2]}" -o "$T/by_id_amb.tsv" "$T/ids_amb.h5ad"
grep -qxF "scnet-propagate: $amb_id" "$T/stderr" || die "ambiguous id: $(cat "$T/stderr")"
grep -q "not in the network" "$T/stderr" && die "an ambiguous id said not in the network: $(cat "$T/stderr")"
expect_exit 0 "$pr" -q --network scnet_ppi -g "${sym[2]}" -o "$T/by_sym2.tsv" "$T/ids_amb.h5ad"
cmp -s "$T/by_id_amb.tsv" "$T/by_sym2.tsv" || die "an ambiguous id seeded a gene"
expect_exit 1 "$pr" --network scnet_ppi -g "${id[0]}.9" -o "$T/by_id_amb.tsv" "$T/ids_amb.h5ad"
grep -qx "scnet-propagate: -g: none of the seed genes matches a single network gene (.*); 1 seed gene matches more than one network gene by var\['gene_ids'\], so none (e.g. '${id[0]}.9': '${id[0]}.7', '${id[0]}.8')" \
    "$T/stderr" || die "ambiguous id alone: $(cat "$T/stderr")"
expect_exit 1 "$pr" --network scnet_ppi -g "${id[0]}" -o "$T/by_id_num.tsv" "$T/ids_num.h5ad"
grep -q "^scnet-propagate: -g: none of the seed genes in the network (.* e.g. '${sym[0]}')$" "$T/stderr" ||
    die "numbers in gene_ids: $(cat "$T/stderr")"

# .h5ad output: the scores in uns, equal to the table's
expect_exit 0 "$pr" -q -g MECOM,ERP44,CENPV,TNNT1 -o "$T/p.h5ad" "$T/net.h5ad"
expect_exit 0 "$pr" -q --network scnet_ppi --unweighted --gmt "$T/two.gmt" --min-size 2 --evaluate \
    --splits 3 -o "$T/pe.h5ad" "$A"
"$PY" - "$T" <<'PY' || die ".h5ad output"
import sys, warnings
from pathlib import Path
import numpy as np, anndata as ad
warnings.simplefilter("error")
t = sys.argv[1]
u = ad.read_h5ad(f"{t}/p.h5ad").uns["scnet"]["propagate"]
assert u["scores"].shape == (894, 1) and list(u["sets"]) == ["seeds"] and u["network"] == "scnet_coembed"
tab = np.array([float(l.split("\t")[1]) for l in Path(f"{t}/net_scores.tsv").read_text().splitlines()[1:]])
assert (u["scores"][:, 0] == tab).all()
p = ad.read_h5ad(f"{t}/pe.h5ad")
e = p.uns["scnet"]["propagate"]["evaluation"]
assert e["splits"] == 3 and len(e["auroc"]) == 2 and not p.uns["scnet"]["propagate"]["weighted"]
assert p.uns["scnet"]["history"][-1].startswith("scnet-propagate 0.1.0: ")
print("h5ad output ok")
PY

# scnet-coembed again: scores of the network it replaces go, of another stay
"$SCNET_BIN/scnet-coembed" -q -p 90 -o "$T/p_again.h5ad" "$T/p.h5ad" || die "scnet-coembed on p.h5ad"
"$SCNET_BIN/scnet-coembed" -q -p 90 -o "$T/pe_again.h5ad" "$T/pe.h5ad" || die "scnet-coembed on pe.h5ad"
"$PY" - "$T" <<'PY' || die "scnet-coembed kept a stale propagation, or dropped a valid one"
import sys, anndata as ad
t = sys.argv[1]
assert "propagate" not in ad.read_h5ad(f"{t}/p_again.h5ad").uns["scnet"]
assert ad.read_h5ad(f"{t}/pe_again.h5ad").uns["scnet"]["propagate"]["network"] == "scnet_ppi"
PY
# scnet-info's stages: a propagation dropped is no longer listed
"$SCNET_BIN/scnet-info" -q "$T/p_again.h5ad" | grep -q $'^stages\t.*scnet-coembed$' ||
    die "scnet-info lists a dropped stage: $("$SCNET_BIN/scnet-info" -q "$T/p_again.h5ad" | grep ^stages)"
"$SCNET_BIN/scnet-info" -q "$T/pe_again.h5ad" | grep -q $'^stages\t.*scnet-propagate' ||
    die "scnet-info lost a stage: $("$SCNET_BIN/scnet-info" -q "$T/pe_again.h5ad" | grep ^stages)"

# bad inputs: one line on stderr, exit 1 (2 for usage), no output left behind
printf 'TP53\n' >"$T/onecol.tsv"
printf 'only_name desc TP53\n' >"$T/notab.gmt"
printf 'set1\tdesc\tTP53\tMDM2\n' >"$T/tiny.gmt"
bad() { # exit pattern args...
    local want=$1 pat=$2
    shift 2
    rm -f "$T/bad.tsv"
    expect_exit "$want" "$pr" -o "$T/bad.tsv" "$@"
    grep -Eq -- "$pat" "$T/stderr" || die "stderr of '$*' does not match /$pat/: $(cat "$T/stderr")"
    [ "$want" = 2 ] || [ "$(wc -l <"$T/stderr")" -eq 1 ] || die "'$*' printed more than one line: $(cat "$T/stderr")"
    [ ! -e "$T/bad.tsv" ] || die "'$*' left an output file"
    ls "$T" | grep -q '\.tmp' && die "'$*' left a temporary file"
    return 0
}
bad 1 "^scnet-propagate: -g: none of the seed genes in the network" -g NOTAGENE,ALSONOT "$T/net.h5ad"
bad 1 "^scnet-propagate: .*nope.tsv" --edges "$T/nope.tsv" -g TP53
bad 1 "^scnet-propagate: .*onecol.tsv:1" --edges "$T/onecol.tsv" -g TP53
bad 1 "^scnet-propagate: .*notab.gmt:1: no tab; a gene set needs NAME, DESCRIPTION and its genes" --edges "$PPI" \
    --gmt "$T/notab.gmt"
bad 1 "^scnet-propagate: .*tiny.gmt: none of its 1 sets has 5 to 500 genes" --edges "$PPI" --gmt "$T/tiny.gmt"
bad 1 "^scnet-propagate: .*a.h5ad: varp/scnet_coembed is missing" -g TP53 "$A"
bad 1 "^scnet-propagate: .*a.h5ad: varp/other is missing" --network other -g TP53 "$A"
bad 2 "one source of seeds" "$T/net.h5ad"
bad 2 "-g ' , ' names no gene" -g ' , ' "$T/net.h5ad"
bad 2 "one source of seeds" -g TP53 --gmt "$KEGG" "$T/net.h5ad"
bad 2 "either an .h5ad FILE or --edges" --edges "$PPI" -g TP53 "$T/net.h5ad"
bad 2 "needs an .h5ad input" --edges "$PPI" -g TP53 -o "$T/x.h5ad"
bad 2 "at least 2 networks" --edges "$PPI" --gmt "$KEGG" --n-random 1
bad 2 "alpha" --alpha 1 -g TP53 "$T/net.h5ad"
bad 2 "holdout" --holdout 0 --evaluate -g TP53 "$T/net.h5ad"
bad 2 "^scnet-propagate: --max-size applies to --gmt only" --max-size 3 -g TP53 "$T/net.h5ad"
bad 2 "^scnet-propagate: --min-size 6 is larger than --max-size 5" --min-size 6 --max-size 5 --gmt "$KEGG" "$T/net.h5ad"

# blanks around a GMT gene (a hand-edited file) are not part of its name
printf 'set1\tdesc\t TP53 \tMDM2 \t CDKN1A\n' >"$T/padded.gmt"
printf 'set1\tdesc\tTP53\tMDM2\tCDKN1A\n' >"$T/plain.gmt"
expect_exit 0 "$pr" -q --edges "$PPI" --min-size 3 --gmt "$T/padded.gmt" -o "$T/padded.tsv"
expect_exit 0 "$pr" -q --edges "$PPI" --min-size 3 --gmt "$T/plain.gmt" -o "$T/plain.tsv"
cmp -s "$T/padded.tsv" "$T/plain.tsv" || die "blanks around GMT genes changed the scores"

"$pr" --help >"$T/help" || die "--help"
man=$SCNET_ROOT/man/man1/scnet-propagate.1
for o in $(grep -oE '^ +(-[a-z], )?--[a-z-]+' "$T/help" | grep -oE -- '--[a-z-]+'); do
    grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$man" || die "man page lacks $o"
done
if command -v mandoc >/dev/null; then
    mandoc -Tlint -Wwarning "$man" || die "mandoc -Tlint complains about scnet-propagate.1"
fi
grep -q '^.SH EXAMPLES' "$man" || die "man page without EXAMPLES"
echo "propagate.sh: all checks passed"
