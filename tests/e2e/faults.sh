# I/O faults and resource limits on real data (the 10x cell-line set):
# full disks (/dev/full, a full tmpfs, a file-size limit), directories that
# cannot be written (even by root), readers that close the pipe early,
# SIGINT/SIGTERM while training and while writing, failing runs over an
# existing output, and memory limits.  Each failure must give exit status 1
# and one line naming the file, leave no temporary behind and an existing
# output byte-identical; a closed pipe ends the run quietly with SIGPIPE
# (status 141 in the shell), as other filters end.
source "$(dirname "$0")/lib.sh"
B=$SCNET_BIN D=$SCNET_DATA T=$TEST_TMP
PPI=$D/ppi/iref13_miscore_interactome.tsv.gz
CEPO=$D/tian2019_cellbench/sc_10x_cepo894genes.count.csv.gz
cd "$T"

"$B/scnet-prep" -q "$CEPO" --ppi "$PPI" --ppi-min-score 0 --min-genes 20 --min-ppi-genes 50 -o prep.h5ad
small=(-q --max-genes 60 -e 1 -b 2 --hidden 16 --embed 8)
"$B/scnet-train" "${small[@]}" -o train.h5ad prep.h5ad
"$B/scnet-coembed" -q -o coembed.h5ad train.h5ad

# expect_fail PATTERN cmd...: exit 1 and exactly one stderr line, matching
expect_fail() {
    local pat=$1
    shift
    expect_exit 1 "$@"
    [ "$(wc -l <"$T/stderr")" -eq 1 ] || die "'$*': not one error line: $(cat "$T/stderr")"
    grep -Eq -- "$pat" "$T/stderr" || die "'$*': stderr does not match /$pat/: $(cat "$T/stderr")"
}
# no_leftovers DIR: no temporary file in DIR
no_leftovers() {
    ! ls -A "$1" | grep -q '\.tmp' || die "temporary files left in $1: $(ls -A "$1")"
}
# Each program with its inputs, writing OUT (the output path is appended
# as -o OUT).
writers() {
    local out=$1
    W=("scnet-prep -q $CEPO --ppi $PPI --ppi-min-score 0 --min-genes 20 --min-ppi-genes 50 -o $out"
       "scnet-train ${small[*]} -o $out prep.h5ad"
       "scnet-prune -q -o $out train.h5ad"
       "scnet-coembed -q -o $out train.h5ad"
       "scnet-propagate -q -g MECOM,ERP44,CENPV,TNNT1 -o $out coembed.h5ad"
       "scnet-info -q --field layers/scaled -o $out prep.h5ad")
}

# ---- a full disk: a device, standard output, a full filesystem, a size limit ----
writers /dev/full
for w in "${W[@]}"; do
    expect_fail "^${w%% *}: /dev/full: write failed: No space left on device$" $B/$w
done
writers -
for w in "${W[@]}"; do
    expect_fail "^${w%% *}: stdout: write failed: No space left on device$" sh -c "$B/$w >/dev/full"
done
# scnet-propagate's table and scnet-coembed's exports too
expect_fail "^scnet-propagate: /dev/full: write failed" $B/scnet-propagate -q --edges "$PPI" -g TP53,MDM2 -o /dev/full
expect_fail "^scnet-coembed: /dev/full: write failed" $B/scnet-coembed -q --tsv /dev/full -o co2.h5ad train.h5ad
[ ! -e co2.h5ad ] || die "scnet-coembed kept its .h5ad although an export failed"

# a regular file on a full filesystem: a small tmpfs where mounting is
# allowed (root in most containers); the file-size limit below always runs
mkdir full
if mount -t tmpfs -o size=512k tmpfs full 2>/dev/null; then
    trap 'umount full 2>/dev/null || umount -l full' EXIT
    echo keep >full/out.h5ad
    writers full/out.h5ad
    for w in "${W[@]}"; do
        expect_fail "^${w%% *}: full/out\.h5ad: write failed: No space left on device$" $B/$w
        expect_eq "$(cat full/out.h5ad)" keep "the existing output after ${w%% *} on a full disk"
        expect_eq "$(ls -A full)" out.h5ad "files on the full disk after ${w%% *}"
    done
else
    echo "faults.sh: mounting a tmpfs is not permitted here; a full filesystem is covered by /dev/full and the file-size limit"
fi
# past the file-size limit (ulimit -f, in 1024-byte blocks) a write fails
# with EFBIG: SIGXFSZ must not kill the run and strand its temporary
mkdir lim
echo keep >lim/out.h5ad
writers lim/out.h5ad
for w in "${W[@]}"; do
    expect_fail "^${w%% *}: lim/out\.h5ad: write failed: File too large$" sh -c "ulimit -f 200; exec $B/$w"
    expect_eq "$(cat lim/out.h5ad)" keep "the existing output after ${w%% *} over the size limit"
    expect_eq "$(ls -A lim)" out.h5ad "files left by ${w%% *} over the size limit"
done

# ---- directories that cannot be written, even by root ----
echo plain >plain
writers plain/out.h5ad
for w in "${W[@]}"; do
    expect_fail "^${w%% *}: plain/out\.h5ad: cannot create output: Not a directory$" $B/$w
done
expect_fail "^scnet-train: /proc/out\.h5ad: cannot create output: " $B/scnet-train "${small[@]}" -o /proc/out.h5ad prep.h5ad
if [ -d /sys/kernel ]; then
    expect_fail "^scnet-prune: /sys/kernel/out\.h5ad: cannot create output: " $B/scnet-prune -q -o /sys/kernel/out.h5ad train.h5ad
fi
expect_fail "^scnet-train: plain/ck: cannot create output: Not a directory$" \
    $B/scnet-train "${small[@]}" --checkpoint plain/ck --checkpoint-every 1 -o ck.h5ad prep.h5ad
expect_fail "^scnet-prune: plain/p\.tsv: cannot create output: Not a directory$" \
    $B/scnet-prune -q --tsv plain/p.tsv -o pruned.h5ad train.h5ad
[ ! -e ck.h5ad ] && [ ! -e pruned.h5ad ] || die "a run that failed on one output kept the other"
no_leftovers .

# ---- a reader that stops early: SIGPIPE, status 141, nothing on stderr ----
# piped CMD... | head: the writer's status and stderr
piped() {
    local rc
    set +o pipefail
    timeout 120 "$@" 2>"$T/stderr" | head -c 10 >/dev/null
    rc=${PIPESTATUS[0]}
    set -o pipefail
    expect_eq "$rc" 141 "exit status of '$*' into a closed pipe"
    [ ! -s "$T/stderr" ] || die "'$*' into a closed pipe printed: $(head -c 300 "$T/stderr")"
}
piped "$B/scnet-info" -q --field layers/scaled prep.h5ad
piped "$B/scnet-propagate" -q --edges "$PPI" -g TP53,MDM2
piped "$B/scnet-train" "${small[@]}" prep.h5ad
piped "$B/scnet-prep" -q "$CEPO" --ppi "$PPI" --ppi-min-score 0 --min-genes 20 --min-ppi-genes 50
# the table goes to the pipe first; the .h5ad is held back and removed
piped "$B/scnet-prune" -q --tsv - -o pruned.h5ad train.h5ad
[ ! -e pruned.h5ad ] || die "scnet-prune kept its .h5ad after its table's reader went away"
no_leftovers .

# ---- SIGINT and SIGTERM while training, over an existing output ----
cp train.h5ad long.h5ad
cp train.h5ad keep.h5ad
# (with SIGTERM the run keeps checkpoints, and its last line says where;
# SIGQUIT cleans up too before it ends the run, with no core file here)
ulimit -c 0
for sig in INT TERM QUIT; do
    ck=()
    [ $sig != TERM ] || ck=(--checkpoint sig.ck --checkpoint-every 1)
    "$B/scnet-train" -v --max-genes 60 -e 100000 -b 2 --hidden 16 --embed 8 "${ck[@]}" -o long.h5ad prep.h5ad 2>sig.err &
    pid=$!
    for _ in $(seq 600); do
        grep -q 'epoch 1:' sig.err && break
        sleep 0.1
    done
    grep -q 'epoch 1:' sig.err || { kill -KILL $pid; die "training did not start: $(cat sig.err)"; }
    kill -$sig $pid
    rc=0
    wait $pid || rc=$?
    expect_eq "$rc" $((128 + $(kill -l $sig))) "exit status after SIG$sig"
    if [ $sig != TERM ]; then
        expect_eq "$(tail -n 1 sig.err)" "scnet-train: interrupted, no output written" "last line after SIG$sig"
    else
        tail -n 1 sig.err | grep -Eqx "scnet-train: interrupted, no output written; the checkpoint in sig.ck holds [1-9][0-9]* epochs \(continue with --resume sig.ck\)" ||
            die "last line after SIG$sig: $(tail -n 1 sig.err)"
        rm -f sig.ck
    fi
    cmp -s long.h5ad keep.h5ad || die "SIG$sig changed the existing output"
    no_leftovers .
done
# a signal in the moments after the output was renamed into place (the
# run tearing down) says what was written, not that nothing was
cp train.h5ad inplace.h5ad
"$PY" - "$B" <<'EOF'
import os, re, signal, subprocess, sys
b = sys.argv[1]
for args, said in ((["scnet-prune", "-q", "-o", "inplace.h5ad", "inplace.h5ad"], {"inplace.h5ad"}),
                   (["scnet-prune", "-q", "--tsv", "att.tsv", "-o", "inplace.h5ad", "inplace.h5ad"],
                    {"inplace.h5ad", "att.tsv"})):
    caught = 0
    for _ in range(5):
        ino = os.stat("inplace.h5ad").st_ino
        p = subprocess.Popen([f"{b}/{args[0]}"] + args[1:], stderr=subprocess.PIPE, text=True)
        while p.poll() is None and os.stat("inplace.h5ad").st_ino == ino:
            pass
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=60)[1]
        assert os.stat("inplace.h5ad").st_ino != ino, f"{args}: not replaced: {err}"
        if p.returncode != 0:
            assert p.returncode == -signal.SIGINT, (args, p.returncode, err)
            m = re.fullmatch(args[0] + r": interrupted after writing (.*) \(no other output\)\n", err)
            assert m and set(m[1].split(", ")) == said, f"{args}: {err!r}, expected {said} written"
            caught += 1
    assert caught > 0, f"{args}: the signal came after the end of every run, nothing was checked"
EOF
no_leftovers .
# a signal after output went to a stream says that it is incomplete (the
# reader waits, so the writer is stopped in the middle)
mkfifo slow
"$B/scnet-info" -q --field layers/scaled prep.h5ad >slow 2>sig.err &
pid=$!
exec 3<slow
timeout 60 head -c 1000 <&3 >/dev/null
kill -TERM $pid || die "scnet-info ended before its reader had read: $(cat sig.err)"
rc=0
wait $pid || rc=$?
exec 3<&-
expect_eq "$rc" 143 "exit status after SIGTERM with output in a pipe"
expect_eq "$(tail -n 1 sig.err)" "scnet-info: interrupted; what went to standard output is incomplete" "last line"
rm -f slow
# SIGTERM in the middle of writing the temporary (strace delivers it at the
# third write of the output)
if command -v strace >/dev/null; then
    cp prep.h5ad out.h5ad
    rc=0
    strace -f -qq -o strace.log -e trace=openat,pwrite64 -e inject=pwrite64:signal=SIGTERM:when=3 \
        "$B/scnet-prune" -q -o out.h5ad train.h5ad 2>stderr || rc=$?
    expect_eq "$rc" 143 "exit status after SIGTERM while writing"
    grep -q 'openat(.*out\.h5ad\.tmp' strace.log && [ "$(grep -c 'pwrite64(' strace.log)" -ge 3 ] &&
        grep -q 'SIGTERM {si_signo=SIGTERM, si_code=SI_KERNEL' strace.log ||
        die "the signal did not come while the temporary was written: $(tail -3 strace.log)"
    expect_eq "$(tail -n 1 stderr)" "scnet-prune: interrupted, no output written" "message after SIGTERM while writing"
    cmp -s out.h5ad prep.h5ad || die "SIGTERM while writing changed the existing output"
    no_leftovers .
    # a crash while writing (on some corrupt inputs, inside libhdf5) removes
    # the temporary too and says so; sanitizer builds keep their own report
    if [ "${SANITIZE:-0}" != 1 ]; then
        rc=0
        strace -f -qq -o strace.log -e trace=pwrite64 -e inject=pwrite64:signal=SIGSEGV:when=3 \
            "$B/scnet-prune" -q -o out.h5ad train.h5ad 2>stderr || rc=$?
        expect_eq "$rc" 139 "exit status after SIGSEGV while writing"
        expect_eq "$(tail -n 1 stderr)" "scnet-prune: crashed (a bug, or a corrupt input), no output written" \
            "message after SIGSEGV while writing"
        cmp -s out.h5ad prep.h5ad || die "a crash while writing changed the existing output"
        no_leftovers .
    fi
else
    echo "faults.sh: strace is not installed (make deps installs it): SIGTERM while writing not checked"
fi

# ---- failing runs over an existing output leave it as it was ----
# (zcat and gzip end on SIGPIPE when head has enough)
{ zcat "$CEPO" || true; } | head -c 100000 | { gzip -1 || true; } | head -c 30000 >cut.csv.gz
for w in "scnet-prep -q cut.csv.gz --no-ppi -o keep.h5ad" \
         "scnet-train -q -o keep.h5ad coembed.h5ad/none" \
         "scnet-coembed -q -o keep.h5ad prep.h5ad" \
         "scnet-prune -q -o keep.h5ad prep.h5ad" \
         "scnet-propagate -q -g NOSUCHGENE -o keep.h5ad coembed.h5ad"; do
    expect_fail "^${w%% *}: " $B/$w
    cmp -s keep.h5ad train.h5ad || die "a failed ${w%% *} changed the existing output"
done
no_leftovers .

# ---- an output that would overwrite an input or another output ----
# refused before any work (exit 2: a usage error), every file as it was
# expect_clash PATTERN cmd...: exit 2, the error line matching PATTERN
expect_clash() {
    local pat=$1
    shift
    expect_exit 2 "$@"
    grep -Eq -- "$pat" "$T/stderr" || die "'$*': stderr does not match /$pat/: $(cat "$T/stderr")"
}
md5sum prep.h5ad train.h5ad coembed.h5ad >sums
ln -s train.h5ad link.h5ad
ln train.h5ad hard.h5ad
expect_clash '^scnet-info: -o prep\.h5ad would overwrite the input' $B/scnet-info -q -o prep.h5ad prep.h5ad
expect_clash '^scnet-prep: -o prep\.h5ad would overwrite --ppi' \
    $B/scnet-prep -q "$CEPO" --ppi prep.h5ad -o prep.h5ad
expect_clash '^scnet-train: --checkpoint train\.h5ad would overwrite the input' \
    $B/scnet-train "${small[@]}" --checkpoint train.h5ad -o t2.h5ad train.h5ad
expect_clash '^scnet-train: --save-model \./prep\.h5ad would overwrite the input' \
    $B/scnet-train "${small[@]}" --save-model ./prep.h5ad -o t2.h5ad prep.h5ad
expect_clash '^scnet-train: -o and --save-model name the same file' \
    $B/scnet-train "${small[@]}" --save-model new.h5 -o "$T/new.h5" prep.h5ad
expect_clash '^scnet-prune: --tsv link\.h5ad would overwrite the input' $B/scnet-prune -q --tsv link.h5ad -o p.h5ad train.h5ad
expect_clash '^scnet-coembed: --tsv hard\.h5ad would overwrite the input' \
    $B/scnet-coembed -q --tsv hard.h5ad -o c.h5ad train.h5ad
expect_clash '^scnet-coembed: --tsv and --modules name the same file \(m\.tsv\)' \
    $B/scnet-coembed -q --tsv m.tsv --modules m.tsv -o c.h5ad train.h5ad
expect_clash '^scnet-coembed: -o and --tsv both write to standard output' $B/scnet-coembed -q --tsv - train.h5ad
# two outputs reaching one pipe or FIFO, by any names
mkfifo clash.fifo
expect_clash '^scnet-prune: -o and --tsv both write to one stream \(clash\.fifo\)$' \
    timeout 60 $B/scnet-prune -q --tsv clash.fifo -o clash.fifo train.h5ad
expect_clash '^scnet-coembed: -o and --modules both write to one stream \(- and /dev/stdout\)$' \
    bash -c "set -o pipefail; timeout 60 $B/scnet-coembed -q --modules /dev/stdout -o - train.h5ad | cat"
"$B/scnet-prune" -q --tsv /dev/null -o /dev/null train.h5ad || die "two outputs to /dev/null refused"
rm clash.fifo
expect_clash '^scnet-propagate: -o coembed\.h5ad would overwrite --gmt' \
    $B/scnet-propagate -q --gmt coembed.h5ad -o coembed.h5ad train.h5ad
md5sum -c --quiet sums || die "a refused run changed an input"
[ ! -e t2.h5ad ] && [ ! -e c.h5ad ] && [ ! -e p.h5ad ] && [ ! -e m.tsv ] || die "a refused run wrote an output"
# the main output may still replace its own input, and --checkpoint the
# file --resume read
cp train.h5ad inplace.h5ad
"$B/scnet-prune" -q --pct 20 -o inplace.h5ad inplace.h5ad
"$B/scnet-info" -q inplace.h5ad >info.txt
grep -q '^uns/scnet/prune/pct' info.txt || die "scnet-prune in place: no record of the pruning"
"$B/scnet-train" "${small[@]}" -e 2 --checkpoint ck.h5 --checkpoint-every 1 --stop-after 1 -o t3.h5ad prep.h5ad
"$B/scnet-train" "${small[@]}" -e 2 --resume ck.h5 --checkpoint ck.h5 --checkpoint-every 1 -o t3.h5ad prep.h5ad
[ -s t3.h5ad ] || die "--resume and --checkpoint on one file: no output"
rm -f link.h5ad hard.h5ad inplace.h5ad info.txt ck.h5 t3.h5ad sums
no_leftovers .

# ---- streams: HDF5 through pipes, FIFOs and standard input ----
# HDF5 needs a file it can seek in: a stream's data passes through a
# temporary in $TMPDIR, so memory stays as for a file, and the result is the
# file's data (its history differs: it records -o)
mkdir spool
"$B/scnet-prune" -q -o pruned.h5ad train.h5ad
TMPDIR=$T/spool "$B/scnet-prune" -q -o - train.h5ad >piped.h5ad
h5diff --exclude-path /uns/scnet/history pruned.h5ad piped.h5ad || die "scnet-prune -o -: not the file's data"
[ -z "$(ls -A spool)" ] || die "a spooled stream left its temporary: $(ls -A spool)"
# standard input as a pipe, as a regular file, as /dev/stdin; a FIFO both ways
"$B/scnet-info" -q --field obsp/scnet_knn_pruned pruned.h5ad >want.tsv
cat pruned.h5ad | TMPDIR=$T/spool "$B/scnet-info" -q --field obsp/scnet_knn_pruned - >got.tsv
cmp -s want.tsv got.tsv || die "scnet-info from a pipe differs from the file"
"$B/scnet-info" -q --field obsp/scnet_knn_pruned - <pruned.h5ad >got.tsv
cmp -s want.tsv got.tsv || die "scnet-info from a redirected file differs"
cat pruned.h5ad | TMPDIR=$T/spool "$B/scnet-info" -q --field obsp/scnet_knn_pruned /dev/stdin >got.tsv
cmp -s want.tsv got.tsv || die "scnet-info from /dev/stdin differs"
mkfifo fifo
TMPDIR=$T/spool timeout 60 "$B/scnet-prune" -q -o fifo train.h5ad &
TMPDIR=$T/spool timeout 60 "$B/scnet-info" -q --field obsp/scnet_knn_pruned fifo >got.tsv
wait $! || die "scnet-prune into a FIFO failed"
cmp -s want.tsv got.tsv || die "scnet-prune through a FIFO into scnet-info differs"
[ -z "$(ls -A spool)" ] || die "a stream input left its temporary: $(ls -A spool)"
expect_fail "^scnet-info: stdin: not an HDF5 file" sh -c "echo hello | $B/scnet-info -q -"
expect_fail "^scnet-prune: stdin: no input \(empty stream\)" sh -c "$B/scnet-prune -q -o x.h5ad - </dev/null"
# what lacks the signature in its first MiB is refused without copying the rest
expect_fail "^scnet-info: /dev/zero: not an HDF5 file" $B/scnet-info -q /dev/zero
# a redirected file read past its start is copied from there, like a pipe
expect_fail "^scnet-info: stdin: not an HDF5 file" sh -c "(head -c 8 >/dev/null; $B/scnet-info -q -) <pruned.h5ad"
# scnet-prep reads a FIFO as what it holds (here an .h5ad); an .h5ad given
# as the PPI is named as such
expect_exit 0 bash -c "$B/scnet-prep -q <(cat prep.h5ad) --no-ppi --min-genes 0 --min-cells 0 -o x.h5ad"
rm -f x.h5ad
expect_fail "^scnet-prep: prep\.h5ad: an HDF5 file where a text table was expected$" \
    "$B/scnet-prep" -q prep.h5ad --min-genes 0 --ppi prep.h5ad -o x.h5ad
# a temporary that cannot be made: named, with the way out
expect_fail "^scnet-info: cannot make a temporary file in $T/plain \(set TMPDIR\): Not a directory" \
    sh -c "cat pruned.h5ad | TMPDIR=$T/plain $B/scnet-info -q -"
rm -f fifo want.tsv got.tsv piped.h5ad x.h5ad

# ---- replacing a file keeps its permissions; write-protection holds ----
cp pruned.h5ad private.h5ad
chmod 600 private.h5ad
"$B/scnet-prune" -q -o private.h5ad train.h5ad
expect_eq "$(stat -c %a private.h5ad)" 600 "the mode of a replaced output"
# an output through a symbolic link (a chain, a relative one from its own
# directory) goes to its target, which keeps its mode; the links stay; a
# dangling link makes the file it names; a loop is one line
mkdir -p real
cp train.h5ad real/t.h5ad
chmod 640 real/t.h5ad
ln -s real/t.h5ad lk1.h5ad
ln -s lk1.h5ad lk2.h5ad
ln -s ../made.h5ad real/dangling.h5ad
ln -s loop.b loop.a
ln -s loop.a loop.b
ino=$(stat -c %i real/t.h5ad)
"$B/scnet-prune" -q --pct 20 -o lk2.h5ad lk2.h5ad
[ -L lk1.h5ad ] && [ -L lk2.h5ad ] || die "an output through a link replaced the link"
[ "$(stat -c %i real/t.h5ad)" != "$ino" ] || die "an output through a link did not reach its target"
expect_eq "$(stat -c %a real/t.h5ad)" 640 "the mode of a link's target after an update through it"
"$B/scnet-info" -q --field uns/scnet/prune/pct real/t.h5ad >pct.txt
expect_eq "$(cat pct.txt)" 20 "the pruning recorded in the link's target"
"$B/scnet-prune" -q -o real/dangling.h5ad train.h5ad
[ -L real/dangling.h5ad ] && [ -s made.h5ad ] || die "a dangling link's file was not made"
expect_fail '^scnet-prune: loop\.a: cannot create output: Too many levels of symbolic links$' \
    "$B/scnet-prune" -q -o loop.a train.h5ad
rm -rf real lk1.h5ad lk2.h5ad made.h5ad loop.a loop.b pct.txt
# two outputs meeting through a dangling link are refused like two names
# of one file
ln -s meet.tsv meet.h5ad
expect_exit 2 "$B/scnet-prune" -q --tsv meet.tsv -o meet.h5ad train.h5ad
grep -q '^scnet-prune: -o and --tsv name the same file' "$T/stderr" || die "meet: $(cat "$T/stderr")"
[ ! -e meet.tsv ] || die "a refused run made meet.tsv"
rm meet.h5ad
# /dev/stdout and /dev/stderr redirected to a file are written through the
# stream, as a shell writes: what it held before stays, an append appends
{ echo HEADER; "$B/scnet-prune" -q --tsv /dev/stdout -o std.h5ad train.h5ad; echo FOOTER; } >std.txt
[ "$(head -1 std.txt)" = HEADER ] && [ "$(tail -1 std.txt)" = FOOTER ] && [ "$(sed -n 2p std.txt | cut -f1)" = source ] ||
    die "--tsv /dev/stdout into a file lost what the stream held: $(head -2 std.txt)"
echo before >std.txt
"$B/scnet-prune" -q --tsv /dev/stdout -o std.h5ad train.h5ad >>std.txt
[ "$(head -1 std.txt)" = before ] || die "--tsv /dev/stdout replaced a file opened for appending"
"$B/scnet-prune" -v --tsv /dev/stderr -o std.h5ad train.h5ad 2>std.txt
grep -q '^scnet-prune: ' std.txt && grep -q '^source' std.txt || die "--tsv /dev/stderr into a file lost the log"
rm std.txt std.h5ad
# as another user (root may write anything), where one can run the program
as_nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
if command -v setpriv >/dev/null && "${as_nobody[@]}" "$B/scnet-prune" --version >/dev/null 2>&1; then
    # a directory another user can reach (the test's own may not be)
    shared=$(mktemp -d /tmp/scnet-faults.XXXXXX)
    chmod 1777 "$shared"
    cp train.h5ad "$shared/in.h5ad"
    cp pruned.h5ad "$shared/ro.h5ad"
    chmod 444 "$shared/ro.h5ad"
    sum=$(cksum <"$shared/ro.h5ad")
    expect_fail "^scnet-prune: $shared/ro\.h5ad: cannot replace: Permission denied$" \
        "${as_nobody[@]}" "$B/scnet-prune" -q -o "$shared/ro.h5ad" "$shared/in.h5ad"
    chmod 666 "$shared/ro.h5ad"
    expect_fail "^scnet-prune: $shared/ro\.h5ad: cannot replace another user's file in the sticky directory $shared$" \
        "${as_nobody[@]}" "$B/scnet-prune" -q -o "$shared/ro.h5ad" "$shared/in.h5ad"
    expect_eq "$(cksum <"$shared/ro.h5ad")" "$sum" "a protected output after refused runs"
    rm -rf "$shared"
fi
rm -f private.h5ad pruned.h5ad
no_leftovers .

# ---- memory limits: one line naming the size needed, exit 1 ----
expect_fail '^scnet-train: prep\.h5ad: training needs [0-9.]+ GiB of memory but only [0-9.]+ MiB is available \(neither fewer genes nor smaller cell blocks fit: lower --hidden and --embed\)$' \
    env SCNET_MEM_LIMIT=1G "$B/scnet-train" -q --max-genes 150 --hidden 8000 -e 1 -o mem.h5ad prep.h5ad
[ ! -e mem.h5ad ] || die "a refused run wrote an output"
# An AnnData file of 25000 x 25000 zeros: tiny on disk (no chunk is
# written), 2.3 GiB as float32 in memory.
"$PY" - big.h5ad <<'EOF'
import sys, h5py, numpy as np
n = 25000
with h5py.File(sys.argv[1], "w") as f:
    f.attrs.update({"encoding-type": "anndata", "encoding-version": "0.1.0"})
    x = f.create_dataset("X", shape=(n, n), dtype="f4", chunks=(1000, 1000), compression="gzip")
    x.attrs.update({"encoding-type": "array", "encoding-version": "0.2.0"})
    for side, p in (("obs", "c"), ("var", "g")):
        g = f.create_group(side)
        g.attrs.update({"encoding-type": "dataframe", "encoding-version": "0.2.0", "_index": "_index",
                        "column-order": np.array([], dtype=h5py.string_dtype())})
        d = g.create_dataset("_index", data=[f"{p}{i}" for i in range(n)], dtype=h5py.string_dtype())
        d.attrs.update({"encoding-type": "string-array", "encoding-version": "0.2.0"})
EOF
# a GraphML export on a full disk says why, as the other exports do
expect_fail '^scnet-coembed: /dev/full: write failed: No space left on device$' \
    "$B/scnet-coembed" -q --graphml /dev/full -o /dev/null train.h5ad
# standard output closed at start: the output file is written and the run
# succeeds; an output meant for standard output is refused before the work
echo keep >closed.h5ad
expect_exit 0 sh -c "exec $B/scnet-prune -q -o closed.h5ad train.h5ad >&-"
[ "$(head -c 4 closed.h5ad | od -An -c | tr -d ' ')" = '211HDF' ] || die "stdout closed: the output was not written"
expect_fail '^scnet-prune: stdout: closed, so nothing can be written to it \(give -o FILE\)$' \
    sh -c "exec $B/scnet-prune -q train.h5ad >&-"
# a name with a line break: one error line with escapes; a directory is
# said to be one; names cannot break a line of a TSV export
expect_fail '^scnet-prune: nl\\nnope\.h5ad: cannot open: No such file or directory$' "$B/scnet-prune" -o x.h5ad $'nl\nnope.h5ad'
expect_fail '^scnet-info: \.: is a directory, not an HDF5 file$' "$B/scnet-info" .
"$PY" - train.h5ad weird.h5ad <<'PY' || die "cannot write weird.h5ad"
import sys, anndata as ad
a = ad.read_h5ad(sys.argv[1])
names = list(a.obs_names)
names[0], names[2] = "cell\twith tab", "new\nline"
a.obs_names = names
a.write_h5ad(sys.argv[2])
PY
expect_exit 0 "$B/scnet-prune" -q --tsv weird.tsv -o weird.out.h5ad weird.h5ad
[ "$(awk -F'\t' 'NF != 3' weird.tsv | wc -l)" = 0 ] || die "a name broke a line of the TSV"

if [ "${SANITIZE:-0}" = 1 ]; then
    # ASan reserves terabytes of shadow address space at start-up, so no
    # program of an ASan build starts under an address-space limit.
    echo "faults.sh: ulimit -v not checked: ASan builds cannot run under an address-space limit"
else
    # 1.5 GiB: well above what the programs and their libraries take at
    # start-up (OpenBLAS would hang in its constructor below ~300 MiB),
    # well below the 2.3 GiB the input needs
    expect_fail '^scnet-prep: big\.h5ad: out of memory: 2\.3 GiB needed for a dense matrix$' \
        sh -c "ulimit -v 1572864; exec timeout 120 $B/scnet-prep -q big.h5ad --no-ppi -o big.out.h5ad"
    expect_fail '^scnet-info: big\.h5ad: out of memory: [0-9.]+ GiB needed for a dense matrix$' \
        sh -c "ulimit -v 1572864; exec timeout 120 $B/scnet-info -q --field X big.h5ad"
    [ ! -e big.out.h5ad ] || die "a run out of memory wrote an output"
fi
no_leftovers .
echo "faults.sh: all checks passed"
