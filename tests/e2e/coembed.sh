# scnet-coembed on real data (the 10x three-cell-line mixture with a PCA gene
# embedding, the iRefIndex PPI): the network against numpy's percentile and
# thresholding, baselines, exports, determinism, pipes, the differential
# network, and bad inputs.
source "$(dirname "$0")/lib.sh"
co=$SCNET_BIN/scnet-coembed
fix=$SCNET_ROOT/tests/py/embed_fixture.py
T=$TEST_TMP
A=$T/a.h5ad
B=$T/b.h5ad
"$PY" "$fix" "$A" || die "fixture"
"$PY" "$fix" "$B" --cells odd --shuffle 3 --drop 40 || die "fixture b"

expect_exit 0 "$co" --baseline expression,ppi --tsv "$T/net.tsv" --modules "$T/mod.tsv" \
    --graphml "$T/net.graphml" -o "$T/out.h5ad" "$A"
grep -Eq '^scnet-coembed: co-embedded network: 894 genes, 3996 edges at \|r\| > 0\.93' "$T/stderr" ||
    die "summary line: $(cat "$T/stderr")"
grep -q 'expression baseline: 894 genes, 3996 edges' "$T/stderr" || die "expression summary"
grep -q 'PPI baseline: 894 genes, 188 edges' "$T/stderr" || die "PPI summary"

# the network, baselines and exports against numpy and igraph
"$PY" - "$T" <<'PY' || die "values differ from numpy/igraph"
import sys, warnings
from pathlib import Path
import numpy as np, anndata as ad, igraph as ig
warnings.simplefilter("error")
t = sys.argv[1]
a = ad.read_h5ad(f"{t}/out.h5ad")
u = a.uns["scnet"]["coembed"]

def network(rows):
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.abs(np.corrcoef(rows))
    c[np.isnan(c)] = 0          # constant rows correlate 0 (documented)
    np.fill_diagonal(c, 0)
    tau = np.percentile(c, u["percentile"])
    return tau, np.triu(c > tau, 1)

tau, want = network(a.varm["scnet"].astype(np.float64))
assert abs(u["threshold"] - tau) < 1e-12, (u["threshold"], tau)
got = np.triu(a.varp["scnet_coembed"].toarray() > 0, 1)
assert (got == want).all() and u["n_edges"] == want.sum() == 3996, (got.sum(), want.sum())
assert (a.varp["scnet_coembed"] != a.varp["scnet_coembed"].T).nnz == 0
tau_x, want_x = network(a.X.toarray().T.astype(np.float64))
b = u["baseline_expression"]
assert abs(b["threshold"] - tau_x) < 1e-9 and b["n_edges"] == want_x.sum(), (b["threshold"], tau_x)
gotx = a.varp["scnet_coexpression"]
assert (np.triu(gotx.toarray() > 0, 1) == want_x).all() and (gotx != gotx.T).nnz == 0
assert u["baseline_ppi"]["n_edges"] == a.varp["scnet_ppi"].nnz // 2 == 188
# modules: categorical, 0 the largest, modularity of that partition
m = a.var["scnet_module"]
assert str(m.dtype) == "category" and list(m.cat.categories[:3]) == ["0", "1", "2"]
memb = m.astype(int).to_numpy()
sizes = np.bincount(memb)
assert sizes[0] == sizes.max() and len(sizes) == u["n_modules"] and (sizes >= 2).sum() == u["n_modules_multi"]
e = np.argwhere(want)
g = ig.Graph(n=a.n_vars, edges=e.tolist())
assert abs(g.modularity(memb) - u["modularity"]) < 1e-9
assert a.uns["scnet"]["history"][-1].startswith("scnet-coembed 0.1.0: ")
# exports
lines = Path(f"{t}/net.tsv").read_text().splitlines()
assert lines[0] == "gene1\tgene2\tweight" and len(lines) == 3997
names = a.var_names
pairs = {tuple(sorted((names[i], names[j]))) for i, j in e}
assert {tuple(sorted(l.split("\t")[:2])) for l in lines[1:]} == pairs
assert all(l.endswith("\t1") for l in lines[1:])
mods = [l.split("\t") for l in Path(f"{t}/mod.tsv").read_text().splitlines()]
assert mods[0] == ["gene", "module"] and [int(x[1]) for x in mods[1:]] == memb.tolist()
gm = ig.Graph.Read_GraphML(f"{t}/net.graphml")
assert gm.vcount() == 894 and gm.ecount() == 3996 and gm.vs["name"] == list(names)
assert [int(v) for v in gm.vs["module"]] == memb.tolist()
print("numpy and igraph agree: tau", u["threshold"], "Q", u["modularity"])
PY

# the same output with one thread, and through a pipe
expect_exit 0 "$co" -q -t 1 --tsv "$T/net1.tsv" --modules "$T/mod1.tsv" -o "$T/out1.h5ad" "$A"
cmp -s "$T/net.tsv" "$T/net1.tsv" || die "edge list differs with -t 1"
cmp -s "$T/mod.tsv" "$T/mod1.tsv" || die "modules differ with -t 1"
cat "$A" | "$co" -q - >"$T/piped.h5ad" || die "pipe run failed"
for f in varp/scnet_coembed var/scnet_module uns/scnet/coembed/threshold; do
    "$SCNET_BIN/scnet-info" -q --field $f "$T/out1.h5ad" >"$T/f1" || die "info $f"
    "$SCNET_BIN/scnet-info" -q --field $f "$T/piped.h5ad" >"$T/f2" || die "info $f"
    cmp -s "$T/f1" "$T/f2" || die "$f differs through a pipe"
done

# scnet-prep on the output starts over: the modules of the old genes go
# with the network they came from, and the note names both
if [ -x "$SCNET_BIN/scnet-prep" ]; then
    expect_exit 0 "$SCNET_BIN/scnet-prep" --no-ppi -o "$T/re.h5ad" "$T/out1.h5ad"
    grep -q "not carried over (.*varp/scnet_coembed.*var/scnet_module" "$T/stderr" ||
        die "re-prep did not name the modules it left: $(cat "$T/stderr")"
    ! "$SCNET_BIN/scnet-info" -q "$T/re.h5ad" | grep -q '^var/scnet_module' || die "re-prep kept var['scnet_module']"
fi

# Leiden until stable (the default) is at least as modular as one or two
# passes, and stops even where no pass moves a gene (every gene alone at a
# resolution far above 2m)
q() { "$co" --iterations "$1" ${2:+--resolution $2} -o /dev/null "$A" 2>&1 | grep -o 'modularity -*[0-9.]*' | head -1 | cut -d' ' -f2; }
q1=$(q 1) q2=$(q 2) qs=$(q -1)
awk "BEGIN{exit !($qs >= $q2 && $q2 >= $q1)}" || die "Leiden until stable $qs, one pass $q1, two passes $q2"
[ "$qs" != "$q1" ] || die "--iterations -1 stopped after one pass ($qs)"
expect_exit 0 timeout 60 "$co" -q --resolution 100000 -o "$T/alone.h5ad" "$A"
expect_exit 2 "$co" --iterations 0 "$A"

# other percentiles, weights, Louvain
expect_exit 0 "$co" -q -p 95 --weighted --method louvain --tsv "$T/w.tsv" -o "$T/p95.h5ad" "$A"
"$PY" - "$T" <<'PY' || die "-p 95 --weighted --method louvain"
import sys, numpy as np, anndata as ad
from pathlib import Path
t = sys.argv[1]
a = ad.read_h5ad(f"{t}/p95.h5ad")
u = a.uns["scnet"]["coembed"]
c = np.abs(np.corrcoef(a.varm["scnet"].astype(np.float64)))
np.fill_diagonal(c, 0)
tau = np.percentile(c, 95)
assert abs(u["threshold"] - tau) < 1e-12 and u["n_edges"] == np.triu(c > tau, 1).sum()
assert u["method"] == "louvain" and u["weighted"] and 0.1 < u["modularity"] < 1
assert "beta" not in u and "iterations" not in u   # Leiden's own parameters
w = np.array([float(l.split("\t")[2]) for l in Path(f"{t}/w.tsv").read_text().splitlines()[1:]])
assert len(w) == u["n_edges"] and (w > tau).all() and (w <= 1).all()
PY

# the differential network over the shared genes
expect_exit 0 "$co" -q --diff "$B" --diff-out "$T/diff.tsv" -o "$T/d.h5ad" "$A"
"$PY" - "$T" <<'PY' || die "differential network"
import sys, numpy as np, anndata as ad
from pathlib import Path
t = sys.argv[1]
a, b = ad.read_h5ad(f"{t}/a.h5ad"), ad.read_h5ad(f"{t}/b.h5ad")
shared = [g for g in a.var_names if g in set(b.var_names)]
assert len(shared) == 854
def edges(ad_, p=99):
    x = ad_[:, shared].varm["scnet"].astype(np.float64)
    c = np.abs(np.corrcoef(x)); np.fill_diagonal(c, 0)
    return {(shared[i], shared[j]) for i, j in np.argwhere(np.triu(c > np.percentile(c, p), 1))}
ea, eb = edges(a), edges(b)
rows = [l.split("\t") for l in Path(f"{t}/diff.tsv").read_text().splitlines()]
assert rows[0] == ["gene1", "gene2", "network", "weight"]
only_a = {(r[0], r[1]) for r in rows[1:] if r[2].endswith("a.h5ad")}
only_b = {(r[0], r[1]) for r in rows[1:] if r[2].endswith("b.h5ad")}
assert only_a == ea - eb and only_b == eb - ea, (len(only_a), len(ea - eb), len(only_b), len(eb - ea))
d = ad.read_h5ad(f"{t}/d.h5ad").uns["scnet"]["coembed"]["diff"]
assert d["n_shared_genes"] == 854 and d["n_only_this"] == len(only_a) and d["n_common"] == len(ea & eb)
print("differential:", len(only_a), len(only_b), len(ea & eb))
PY

# each network comes from its own file: embeddings of other widths compare too
"$PY" -c "
import anndata as ad
b = ad.read_h5ad('$B'); b.varm['scnet'] = b.varm['scnet'][:, :7].copy(); b.write_h5ad('$T/narrow.h5ad')"
expect_exit 0 "$co" -q --diff "$T/narrow.h5ad" --diff-out "$T/diffn.tsv" -o "$T/dn.h5ad" "$A"
"$PY" - "$T" <<'PY' || die "differential network of two widths"
import sys, numpy as np, anndata as ad
from pathlib import Path
t = sys.argv[1]
a, b = ad.read_h5ad(f"{t}/a.h5ad"), ad.read_h5ad(f"{t}/narrow.h5ad")
shared = [g for g in a.var_names if g in set(b.var_names)]
def edges(ad_, p=99):
    x = ad_[:, shared].varm["scnet"].astype(np.float64)
    c = np.abs(np.corrcoef(x)); np.fill_diagonal(c, 0)
    return {(shared[i], shared[j]) for i, j in np.argwhere(np.triu(c > np.percentile(c, p), 1))}
ea, eb = edges(a), edges(b)
rows = [l.split("\t") for l in Path(f"{t}/diffn.tsv").read_text().splitlines()[1:]]
assert {(r[0], r[1]) for r in rows if r[2].endswith("narrow.h5ad")} == eb - ea
assert {(r[0], r[1]) for r in rows if r[2].endswith("a.h5ad")} == ea - eb
PY

# a gene name given twice: --diff matches by name, so a warning names the
# file, the name and how many repeat (either file); none without --diff
dupname=$(dup_var_name "$B" "$T/bdup.h5ad") || die "bdup.h5ad"
for order in "$A --diff $T/bdup.h5ad" "$T/bdup.h5ad --diff $A"; do
    # shellcheck disable=SC2086 # two paths without blanks
    expect_exit 0 "$co" --diff-out "$T/dd.tsv" -o "$T/dd.h5ad" $order
    grep -q "^scnet-coembed: warning: .*bdup.h5ad: 1 gene name in var repeats an earlier one (the first: '$dupname'); --diff" \
        "$T/stderr" || die "no warning of the repeated name ($order): $(cat "$T/stderr")"
    expect_eq "$(grep -c warning "$T/stderr")" 1 "warnings for one repeated name ($order)"
done
expect_exit 0 "$co" -o "$T/dd.h5ad" "$T/bdup.h5ad"
grep -q warning "$T/stderr" && die "a warning without --diff: $(cat "$T/stderr")"

# a repeated name counts once whichever file is the input: only its first
# copy is matched, so both orders share the same genes and edges
dup_var_name "$A" "$T/adup.h5ad" >/dev/null || die "adup.h5ad"
expect_exit 0 "$co" -q --diff "$A" --diff-out "$T/du1.tsv" -o "$T/du1.h5ad" "$T/adup.h5ad"
expect_exit 0 "$co" -q --diff "$T/adup.h5ad" --diff-out "$T/du2.tsv" -o "$T/du2.h5ad" "$A"
"$PY" - "$T" <<'PY' || die "a repeated name: the two orders differ"
import sys, anndata as ad
from pathlib import Path
t = sys.argv[1]
def run(k):
    n = ad.read_h5ad(f"{t}/du{k}.h5ad").uns["scnet"]["coembed"]["diff"]["n_shared_genes"]
    rows = [l.split("\t") for l in Path(f"{t}/du{k}.tsv").read_text().splitlines()[1:]]
    return n, {(frozenset(r[:2]), Path(r[2]).name) for r in rows}
(n1, e1), (n2, e2) = run(1), run(2)
assert n1 == n2 == 893, (n1, n2)
assert e1 == e2, (len(e1 - e2), len(e2 - e1))
PY

# bad inputs: one line on stderr, exit 1 (2 for usage), no output left behind
"$PY" -c "
import anndata as ad, sys
a = ad.read_h5ad('$A'); del a.varm['scnet']; del a.varp['scnet_ppi']; a.write_h5ad('$T/noemb.h5ad')"
bad() { # exit pattern args...
    local want=$1 pat=$2
    shift 2
    rm -f "$T/bad.h5ad"
    expect_exit "$want" "$co" -o "$T/bad.h5ad" "$@"
    grep -Eq -- "$pat" "$T/stderr" || die "stderr of '$*' does not match /$pat/: $(cat "$T/stderr")"
    [ "$want" = 2 ] || [ "$(wc -l <"$T/stderr")" -eq 1 ] || die "'$*' printed more than one line: $(cat "$T/stderr")"
    [ ! -e "$T/bad.h5ad" ] || die "'$*' left an output file"
    ls "$T" | grep -q '\.tmp' && die "'$*' left a temporary file"
    return 0
}
bad 1 "^scnet-coembed: .*noemb.h5ad: varm/scnet is missing \(not a trained file" "$T/noemb.h5ad"
bad 1 "^scnet-coembed: .*noemb.h5ad: .*varm/other" --embedding other "$T/noemb.h5ad"
bad 1 "^scnet-coembed: .*nope.h5ad" "$T/nope.h5ad"
bad 1 "^scnet-coembed: .*noemb.h5ad" --diff "$T/noemb.h5ad" --diff-out "$T/x.tsv" "$A"
head -c 30000 "$A" >"$T/trunc.h5ad"
bad 1 "^scnet-coembed: .*trunc.h5ad" "$T/trunc.h5ad"
echo "gene1 gene2" >"$T/text.h5ad"
bad 1 "^scnet-coembed: .*text.h5ad: not an HDF5 file" "$T/text.h5ad"
bad 2 "^scnet-coembed: invalid value '101' for --percentile \(expected a number in \[0, 100\)\)$" -p 101 "$A"
bad 2 "method" --method walktrap "$A"
bad 2 "baseline" --baseline coexpression "$A"
bad 2 "--diff and --diff-out" --diff "$B" "$A"
bad 2 "^scnet-coembed: --beta applies to --method leiden only" --method louvain --beta 0.5 "$A"
bad 2 "^scnet-coembed: --iterations applies to --method leiden only" --iterations 3 --method louvain "$A"

# a network without an edge is refused, not stored with modularity nan:
# the embedding of every gene the same (|r| = 1 for every pair) or constant
# (no correlation defined), X without a value, a PPI without an edge
xcol=$("$PY" - "$A" "$T" <<'PY'
import sys, numpy as np, anndata as ad, scipy.sparse as sp
a = ad.read_h5ad(sys.argv[1]); t = sys.argv[2]
b = a.copy(); b.varm["scnet"] = np.tile(b.varm["scnet"][:1], (b.n_vars, 1)); b.write_h5ad(f"{t}/tied.h5ad")
b = a.copy(); b.varm["scnet"][:] = 0.5; b.write_h5ad(f"{t}/flat.h5ad")
b = a.copy(); b.X = sp.csr_matrix(b.shape, dtype=np.float32); b.write_h5ad(f"{t}/xzero.h5ad")
b = a.copy(); b.varp["scnet_ppi"] = sp.csr_matrix((b.n_vars,) * 2, dtype=np.float32); b.write_h5ad(f"{t}/ppi0.h5ad")
b = a.copy(); b.X = b.X.tocsr(); b.X.data[0] = np.nan; b.write_h5ad(f"{t}/xnan.h5ad")
print(b.X.indices[0])   # the gene (column) of row 0's first stored value
PY
) || die "fixtures without edges"
[ "$xcol" -gt 0 ] || die "the NaN should not sit in column 0, where row and column cannot be told apart"
bad 1 "^scnet-coembed: .*tied.h5ad: the co-embedded network has no edge: no pair of genes has \|r\| above the 99th percentile \(1\), the values from there up are tied" \
    "$T/tied.h5ad"
bad 1 "^scnet-coembed: .*flat.h5ad: varm/scnet: the embedding of every gene is constant across its columns, so no correlation is defined$" -p 99.5 "$T/flat.h5ad"
bad 1 "^scnet-coembed: .*xzero.h5ad: the co-expression network of X has no edge" -q --baseline expression "$T/xzero.h5ad"
bad 1 "^scnet-coembed: .*ppi0.h5ad: varp/scnet_ppi has no edge" -q --baseline ppi "$T/ppi0.h5ad"
bad 1 "^scnet-coembed: .*tied.h5ad: the network over the 894 genes shared with .*a.h5ad has no edge" \
    -q --diff "$T/tied.h5ad" --diff-out "$T/x.tsv" "$A"
[ ! -e "$T/x.tsv" ] || die "a diff without edges left its table"
# X is cells x genes: the NaN is in row 0 (a cell), column $xcol (a gene)
bad 1 "^scnet-coembed: .*xnan.h5ad: X: value at row 0, column $xcol is not finite" -q --baseline expression "$T/xnan.h5ad"
expect_exit 1 "$co" -o "$T/no/such/dir/x.h5ad" "$A"
expect_eq "$(wc -l <"$T/stderr")" 1 "lines for an unwritable output"
[ ! -e "$T/x.tsv" ] || die "a failed diff left its table"

# --help lists every option the man page documents, and the page is clean
"$co" --help >"$T/help" || die "--help"
man=$SCNET_ROOT/man/man1/scnet-coembed.1
for o in $(grep -oE '^ +(-[a-z], )?--[a-z-]+' "$T/help" | grep -oE -- '--[a-z-]+'); do
    grep -q -- "$(echo "$o" | sed 's/-/\\\\-/g')" "$man" || die "man page lacks $o"
done
if command -v mandoc >/dev/null; then
    mandoc -Tlint -Wwarning "$man" || die "mandoc -Tlint complains about scnet-coembed.1"
fi
grep -q '^.SH EXAMPLES' "$man" || die "man page without EXAMPLES"
echo "coembed.sh: all checks passed"
