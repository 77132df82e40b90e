# Sourced by the benchmark scripts: `paired_timing RUNS WORK B A...` times command A (words) and
# command B (a string) as whole processes. With TIMER set, `$TIMER -n RUNS --vs "B" -- A` (a
# timer that alternates A and B and reports the paired ratio); otherwise each runs RUNS times in
# alternation under /usr/bin/time, and the median wall seconds are printed (times in WORK).
paired_timing() {
    local runs=$1 work=$2 b=$3
    shift 3
    echo "A: $*"
    echo "B: $b"
    if [ -n "${TIMER:-}" ]; then
        $TIMER -n "$runs" --vs "$b" -- "$@"
        return
    fi
    median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
    : > "$work/a.times"; : > "$work/b.times"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f %e -a -o "$work/a.times" "$@" > /dev/null 2>&1
        /usr/bin/time -f %e -a -o "$work/b.times" $b > /dev/null 2>&1
    done
    echo "median wall seconds over $runs runs: A $(median < "$work/a.times"), B $(median < "$work/b.times")"
}
