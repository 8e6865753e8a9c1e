# make install / uninstall into a temporary DESTDIR with PREFIX=/usr: the
# programs, the CUDA plugin where it was built (where the loader looks for
# it), the man pages and the workflow rules; the installed programs run on
# real data and man finds the pages; uninstall leaves no file behind.
source "$(dirname "$0")/lib.sh"
T=$TEST_TMP
D=$T/dest
BUILD_ARG=${SCNET_BUILD%/asan}
MK=(make --no-print-directory -C "$SCNET_ROOT" BUILD="$BUILD_ARG" SANITIZE="$SANITIZE" DESTDIR="$D" PREFIX=/usr)
"${MK[@]}" install >"$T/install.log" 2>&1 || die "make install failed: $(tail -5 "$T/install.log")"

U=$D/usr
for p in prep train prune coembed propagate info; do
    [ -x "$U/bin/scnet-$p" ] || die "scnet-$p is not installed in $U/bin"
    [ -f "$U/share/man/man1/scnet-$p.1" ] || die "scnet-$p.1 is not installed"
done
[ -f "$U/share/man/man7/scnet.7" ] && [ -f "$U/share/man/man5/scnet-h5ad.5" ] || die "scnet(7) or scnet-h5ad(5) is not installed"
for f in scnet.mk scnet.smk README; do
    [ -f "$U/share/scnet/$f" ] || die "share/$f is not installed"
done
n_files=$(find "$D" -type f | wc -l)

# ---- the installed programs run ----
expect_exit 0 "$U/bin/scnet-train" --version
grep -Eq '^scnet-train [0-9]+\.[0-9]+\.[0-9]+' "$TEST_TMP/stdout" || die "--version: $(cat "$TEST_TMP/stdout")"
CSV=$SCNET_DATA/tian2019_cellbench/sc_celseq2.count.csv.gz
MAP=$SCNET_DATA/annotation/human_GRCh38-2024-A_10x_features.tsv.gz
IREF=$SCNET_DATA/ppi/iref13_miscore_interactome.tsv.gz
(cd "$T" && "$U/bin/scnet-prep" -q -t 1 "$CSV" --gene-map "$MAP" --ppi "$IREF" |
    "$U/bin/scnet-train" -q -t 1 --max-genes 100 -e 1 |
    "$U/bin/scnet-coembed" -q -t 1 -o small.h5ad) || die "the installed programs failed on real data"
"$U/bin/scnet-info" -q "$T/small.h5ad" >"$T/small.txt"
expect_line "$T/small.txt" $'stages\tscnet-prep scnet-train scnet-coembed'
expect_line "$T/small.txt" $'obsm/X_scnet\tarray\tfloat32\t274 x 75'

# ---- the CUDA plugin sits where the installed programs look ----
if [ -f "$SCNET_BUILD/lib/libscnet-cuda.so" ]; then
    [ -f "$U/lib/scnet/libscnet-cuda.so" ] || die "libscnet-cuda.so was built but not installed in /usr/lib/scnet"
    run_cmd env -u SCNET_CUDA_PLUGIN "$U/bin/scnet-train" --device cuda -e 1 --max-genes 100 -q -o "$T/gpu.h5ad" \
        "$T/small.h5ad" || true
    grep -q "this build has no CUDA backend" "$TEST_TMP/stderr" &&
        die "the installed scnet-train does not find its CUDA plugin: $(cat "$TEST_TMP/stderr")"
else
    [ ! -e "$U/lib/scnet" ] || die "no CUDA plugin was built, yet $U/lib/scnet exists"
fi

# ---- man finds and renders the pages ----
MANWIDTH=80 man -M "$U/share/man" scnet-coembed 2>"$T/man.err" | col -b >"$T/coembed.txt" ||
    die "man -M: $(cat "$T/man.err")"
grep -q "^NAME" "$T/coembed.txt" && grep -q "scnet-coembed - co-embedded gene network" "$T/coembed.txt" ||
    die "man -M rendered: $(head -5 "$T/coembed.txt")"
MANWIDTH=80 man -M "$U/share/man" 7 scnet 2>&1 | col -b >"$T/scnet7.txt"
grep -q "^THE PIPELINE" "$T/scnet7.txt" || die "man 7 scnet: $(head -3 "$T/scnet7.txt")"
MANWIDTH=80 man -M "$U/share/man" 5 scnet-h5ad 2>&1 | col -b >"$T/h5ad5.txt"
grep -q "^FILE LAYOUT" "$T/h5ad5.txt" || die "man 5 scnet-h5ad: $(head -3 "$T/h5ad5.txt")"

# ---- uninstall removes every file ----
"${MK[@]}" uninstall >"$T/uninstall.log" 2>&1 || die "make uninstall failed: $(tail -5 "$T/uninstall.log")"
left=$(find "$D" -type f -o -type l)
[ -z "$left" ] || die "uninstall left files behind: $left"
echo "install: $n_files files installed under $D/usr, all removed by uninstall"
