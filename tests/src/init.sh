#!/bin/busybox sh
# /init of the real-kernel tests (tests/tests/kernels.rs): runs as PID 1 of the booted kernel,
# puts pause through its contract and prints one line per case, `@@pause CASE key=value...`,
# for the host to judge. It judges nothing itself: it reports what the kernel shows (exit
# statuses, bytes as hex, /proc readings), so every verdict lives in the test. The host
# prepends SLEEP_NR (the call pause sleeps in, this architecture's number) and ORPHANS.
#
# The not-a-background-job rule: a non-interactive shell starts `cmd &` with SIGINT and SIGQUIT
# ignored, and an ignored signal stays ignored across exec. So pause always runs in the
# foreground (inheriting the kernel's default dispositions) and a background helper drives it.

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
P=/pause

# Makes orphans: each blocks reading a line from the gate, then exits 0, exits 7 or kills
# itself; more exit at once. The shell that starts them exits first, so they land on pause.
cat >/tmp/orphans.sh <<'END'
i=0
while [ $i -lt $1 ]; do
    sh -c 'read x </tmp/gate; exit 0' &
    sh -c 'read x </tmp/gate; exit 7' &
    sh -c 'read x </tmp/gate; kill -KILL $$' &
    (exit 3) &
    true &
    i=$((i + 1))
done
END
# Four orphans that exit at once (1, 2, killed, 0) and one a second later (0), so that some
# are always pending on pause while the storm lasts.
cat >/tmp/burst.sh <<'END'
(exit 1) & (exit 2) & sh -c 'kill -KILL $$' & true & sleep 1 &
END

say() { echo "@@pause $*"; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# Polls the condition $1 every 50 ms for at most 30 s (of the guest's clock); says which
# condition never came true.
uptime() { cut -d. -f1 /proc/uptime; }
until_() {
    deadline=$(($(uptime) + 30))
    while ! eval "$1"; do
        if [ $(uptime) -ge $deadline ]; then
            say timeout "condition=$(echo "$1" | tr -c 'a-zA-Z0-9$\n' _)"
            return 1
        fi
        usleep 50000
    done
}

status_field() { sed -n "s/^$2:[[:space:]]*//p" /proc/$1/status; }
switches() { echo $(($(status_field $1 voluntary_ctxt_switches) + $(status_field $1 nonvoluntary_ctxt_switches))); }
# utime + stime, in clock ticks.
ticks() { sed 's/.*) //' /proc/$1/stat | awk '{ print $12 + $13 }'; }
state() { sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1; }
sleeping() { read -r nr rest </proc/$1/syscall 2>/dev/null && [ "$nr" = "$SLEEP_NR" ]; }
# One line per child of $1: its state letter and PID (comm, in parentheses, may hold spaces).
children() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v p=$1 '{ pid = $1; sub(/.*\) /, ""); if ($2 == p) print $1, pid }'
}
nchildren() { children $1 | wc -l; }
nzombies() { children $1 | grep -c '^Z'; }

# Sets p to the PID of the (one) pause once it sleeps; on failure kills it so that the
# foreground run ends, and reports why.
find_pause() {
    if until_ 'p=$(pidof pause) && sleeping $p'; then return 0; fi
    say "$1" error=never-slept
    killall -9 pause
    return 1
}

# Runs "$@" in the foreground: stdout, stderr and the status land in /tmp/out, /tmp/err, $st.
fg() {
    "$@" >/tmp/out 2>/tmp/err
    st=$?
}
report() { say "$1" status=$st out=$(hex /tmp/out) err=$(hex /tmp/err) "$2"; }

release=$(uname -r)
page=$(sed -n 's/^KernelPageSize:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/self/smaps | head -n1)
say kernel release=$release page_kib=$page

fg $P -v
report version

# Not PID 1: the warning, then the shutdown line; HUP (no handler) is the control that shows
# a signal without a handler does kill pause where the PID-1 rule does not protect it.
for sig in TERM INT HUP; do
    (find_pause not-init-$sig && kill -$sig $p) &
    fg $P
    wait
    report not-init-$sig
done

# SIGTERM ignored when pause is exec'd must not stop its handler: the control shows that
# `trap '' TERM` really hands an ignored SIGTERM across exec (SigIgn of the exec'd program).
# A blocked SIGTERM (the inherited signal mask) cannot be set up from busybox: it has no
# applet or builtin that changes the signal mask before exec.
sh -c "trap '' TERM; exec grep SigIgn /proc/self/status" >/tmp/ign
say term-ignored-control sigign=$(awk '{ print $2 }' /tmp/ign)
(find_pause term-ignored && say term-ignored-sleeping sigign=$(status_field $p SigIgn) sigcgt=$(status_field $p SigCgt) && kill -TERM $p) &
fg sh -c "trap '' TERM; exec $P"
wait
report term-ignored

# PID 1 of a new PID namespace.
init_cases() {
    find_pause init || return
    say init-dispositions sigign=$(status_field $p SigIgn) sigcgt=$(status_field $p SigCgt)

    # One line per gated orphan (not EOF) frees each whenever it gets to its read.
    mkfifo /tmp/gate
    exec 3<>/tmp/gate
    nsenter -t $p -p -- sh /tmp/orphans.sh $ORPHANS
    gated=$((3 * ORPHANS))
    until_ '[ $(nchildren $p) -ge $gated ]'
    landed=$(nchildren $p)
    yes '' | head -n $gated >&3
    until_ '[ $(nchildren $p) -eq 0 ]'
    say init-orphans made=$((5 * ORPHANS)) landed=$landed left=$(nchildren $p) zombies=$(nzombies $p)

    # A stopped child: with SA_NOCLDSTOP neither its stop nor its continue wakes pause.
    nsenter -t $p -p -- sh -c 'sh -c "read x </tmp/gate; exit 0" &'
    until_ '[ $(nchildren $p) -eq 1 ]'
    c=$(children $p | awk '{ print $2 }')
    before=$(switches $p)
    kill -STOP $c
    until_ '[ "$(state $c)" = T ]'
    usleep 500000
    stopped=$(switches $p)
    stopped_state=$(state $c)
    kill -CONT $c
    until_ '[ "$(state $c)" = S ]'
    usleep 500000
    continued=$(switches $p)
    echo >&3
    until_ '[ $(nchildren $p) -eq 0 ]'
    say init-stopped before=$before stopped=$stopped continued=$continued state=$stopped_state left=$(nchildren $p)

    # The control for the counts above and below: a signal pause handles does wake it.
    s0=$(switches $p)
    kill -CHLD $p
    usleep 300000
    say init-woken switches_before=$s0 switches_after=$(switches $p)

    # Idle: not one wake-up, not one tick.
    s0=$(switches $p)
    t0=$(ticks $p)
    sleep 2
    say init-idle switches_before=$s0 switches_after=$(switches $p) ticks_before=$t0 ticks_after=$(ticks $p)

    # No handler, sent from inside the namespace: the kernel drops them before they are queued.
    for sig in HUP USR1 QUIT; do
        s0=$(switches $p)
        nsenter -t $p -p -- kill -$sig 1
        usleep 300000
        alive=no
        sleeping $p && alive=yes
        say init-unhandled-$sig alive=$alive switches_before=$s0 switches_after=$(switches $p)
    done

    kill -TERM $p
}
init_cases &
fg unshare -p -f $P
wait
report init-term

# SIGTERM in the middle of an orphan storm: orphans land as fast as a shell can make them.
storm() {
    find_pause storm || return
    nsenter -t $p -p -- sh -c 'while :; do sh /tmp/burst.sh; done' 2>/dev/null &
    pending=0
    until_ 'pending=$(nchildren $p); [ $pending -ge 1 ]'
    kill -TERM $p
    say storm-at-term pending=$pending
    wait
}
storm &
fg unshare -p -f $P
wait
report storm-term

say done
poweroff -f
