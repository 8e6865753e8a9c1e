# The man pages: every page renders without a warning (mandoc and groff),
# names the programs' version, and points only at pages that exist; for every
# program the options --help prints, the options its man page documents and
# the options its source accepts are the same set.
source "$(dirname "$0")/lib.sh"
ROOT=$SCNET_ROOT
T=$TEST_TMP
version=$("$SCNET_BIN/scnet-info" --version | awk '{print $2}')
[ -n "$version" ] || die "no version from scnet-info --version"

# ---- every page lints clean ----
pages=("$ROOT"/man/man*/*.[157])
[ ${#pages[@]} -ge 8 ] || die "expected at least 8 pages, found ${#pages[@]}"
for p in "${pages[@]}"; do
    name=$(basename "$p")
    out=$(mandoc -Tlint -Wwarning "$p" 2>&1) || die "mandoc: $name: $out"
    [ -z "$out" ] || die "mandoc: $name: $out"
    out=$(groff -man -ww -z "$p" 2>&1)
    [ -z "$out" ] || die "groff: $name: $out"
    grep -q "^\.TH .*\"scnet $version\"" "$p" || die "$name: .TH does not name scnet $version"
    # a request run onto the end of a text line (".BR x ..SH Y") is text to
    # both linters, and its heading is lost
    ! grep -nE '[^[:space:]]\.(SH|SS|TP|PP|IP|RS|RE)( |$)' "$p" ||
        die "$name: a request joined to the line before: $(grep -nE '[^[:space:]]\.(SH|SS|TP|PP|IP|RS|RE)( |$)' "$p")"
    [[ $name != *.1 ]] || grep -q '^\.SH EXAMPLES$' "$p" || die "$name: no EXAMPLES section"
    # every scnet page it refers to exists
    for ref in $(sed 's/\\-/-/g' "$p" | grep -oE '^\.BR (scnet[a-z0-9-]*) \(([157])\)' | sed -E 's/^\.BR ([^ ]+) \(([0-9])\)/\1.\2/'); do
        [ -f "$ROOT/man/man${ref##*.}/$ref" ] || die "$name refers to ${ref%.*}(${ref##*.}), which does not exist"
    done
done
for want in man1/scnet-prep.1 man1/scnet-train.1 man1/scnet-prune.1 man1/scnet-coembed.1 \
    man1/scnet-propagate.1 man1/scnet-info.1 man5/scnet-h5ad.5 man7/scnet.7; do
    [ -f "$ROOT/man/$want" ] || die "man/$want is missing"
done

# ---- the options of --help, the man page and the source agree ----
# Help: indented lines that start with an option ("  -o, --output FILE").
help_opts() {
    "$1" --help | grep -oE '^ +(-[A-Za-z0-9], )?--[A-Za-z0-9-]+' | grep -oE -- '--?[A-Za-z0-9-]+' | sort -u
}
# Man page: the tag line after each .TP of the OPTIONS section.
man_opts() {
    sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$1" | sed 's/\\-/-/g' | awk 'prev ~ /^\.TP/ {print} {prev = $0}' |
        grep -oE '(^|[[:space:]"])--?[A-Za-z0-9][A-Za-z0-9-]*' | sed -E 's/^[[:space:]"]//' | sort -u
}
# Source: the long options of the getopt table, the common ones spliced in.
src_opts() {
    {
        grep -oE '\{"[A-Za-z0-9-]+", *(no|required|optional)_argument' "$1" | grep -oE '"[^"]+"' | tr -d '"'
        printf '%s\n' help version output threads seed quiet verbose
        if grep -q SN_CLI_DEVICEOPT "$1"; then echo device; fi
    } | sed 's/^/--/' | sort -u
}
# differ A B WHAT: fail listing what only one side has
differ() {
    local only_a only_b
    only_a=$(comm -23 "$1" "$2" | tr '\n' ' ')
    only_b=$(comm -13 "$1" "$2" | tr '\n' ' ')
    [ -z "$only_a$only_b" ] || die "$3: only in the first: ${only_a:-none}; only in the second: ${only_b:-none}"
}

progs=0
for src in "$ROOT"/tools/scnet-*.c; do
    prog=$(basename "$src" .c)
    page=$ROOT/man/man1/$prog.1
    [ -f "$page" ] || die "$prog has no man page"
    help_opts "$SCNET_BIN/$prog" >"$T/help"
    man_opts "$page" >"$T/man"
    src_opts "$src" >"$T/src"
    [ "$(wc -l <"$T/help")" -ge 13 ] || die "$prog: too few options parsed from --help: $(cat "$T/help")"
    differ "$T/help" "$T/man" "$prog: --help vs $prog.1"
    grep -- '^--' "$T/help" >"$T/help-long"
    differ "$T/help-long" "$T/src" "$prog: --help vs the options $prog accepts"
    progs=$((progs + 1))
done
[ $progs -eq 6 ] || die "expected 6 programs, found $progs"

# the comparison notices a difference
sed '/^\.B \\-\\-weighted$/,+2d' "$ROOT/man/man1/scnet-coembed.1" >"$T/broken.1"
man_opts "$T/broken.1" >"$T/man"
help_opts "$SCNET_BIN/scnet-coembed" >"$T/help"
(differ "$T/help" "$T/man" "x") 2>"$T/err" && die "a page without --weighted passed"
grep -q "only in the first: --weighted" "$T/err" || die "the difference is not named: $(cat "$T/err")"

# ---- man(1) reads the pages ----
if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$ROOT/man/man1/scnet-coembed.1" 2>"$T/err" | col -b >"$T/coembed.txt" ||
        die "man -l failed: $(cat "$T/err")"
    grep -q "co-embedded gene network" "$T/coembed.txt" || die "man -l: unexpected text: $(head -5 "$T/coembed.txt")"
    grep -Eq '^ +-p, --percentile FLOAT' "$T/coembed.txt" || die "man -l: the options are not rendered"
fi
echo "man: ${#pages[@]} pages lint clean; options of $progs programs agree with their pages"
