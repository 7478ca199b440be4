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
# Only panics reach the console: a kernel warning printed in the middle of an `@@pause` line (an
# RCU stall on a starved guest, say) would cut it in two.
dmesg -n 1
P=/pause

# Makes $1 orphans of five kinds, each held: it blocks reading a line from the gate, then exits
# 0, 3 or 7, or kills itself with SIGKILL or SIGSEGV. One line on stdout per orphan started, so
# that what was made is counted, not assumed. The shell that starts them exits last, and the
# kernel reparents its children before its parent's wait returns: once nsenter is back, every
# orphan is pause's, and none can have ended before the release.
cat >/tmp/orphans.sh <<'END'
i=0
while [ $i -lt $1 ]; do
    case $((i % 5)) in
    0) sh -c 'read x </tmp/gate; exit 0' & ;;
    1) sh -c 'read x </tmp/gate; exit 3' & ;;
    2) sh -c 'read x </tmp/gate; exit 7' & ;;
    3) sh -c 'read x </tmp/gate; kill -KILL $$' & ;;
    4) sh -c 'read x </tmp/gate; kill -SEGV $$' & ;;
    esac
    echo made
    i=$((i + 1))
done
END
# The storm: bursts of four orphans that end at once, each a zombie for pause to reap, one line
# in /tmp/bursts per burst, for ever. When pause exits, the kernel first stops handing out PIDs
# in its namespace and only then kills what is left: a fork failing in between makes the shell
# exit, so it starts over instead, and only the kernel's SIGKILL can end it.
cat >/tmp/storm.sh <<'END'
trap 'exec sh /tmp/storm.sh' EXIT
while :; do
    (exit 1) & (exit 2) & sh -c 'kill -KILL $$' & true &
    echo >>/tmp/bursts
done
END

say() { echo "@@pause $*"; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# Waits, polling every 50 ms, until the condition $1 holds; a guard of 120 s of the guest's clock
# only ends a hang. `until_` is a barrier the cases cannot go on without: past its guard it says
# which condition never came true, and the host fails the boot. `settle` only waits for a
# reading to be final: past its guard the case goes on and the host judges the reading.
uptime() { cut -d. -f1 /proc/uptime; }
wait_for() {
    deadline=$(($(uptime) + 120))
    while ! eval "$1"; do
        [ $(uptime) -ge $deadline ] && return 1
        usleep 50000
    done
}
until_() {
    wait_for "$1" && return 0
    say timeout "condition=$(echo "$1" | tr -c 'a-zA-Z0-9$\n' _)"
    return 1
}
settle() {
    wait_for "$1" && return 0
    say guard-expired "condition=$(echo "$1" | tr -c 'a-zA-Z0-9$\n' _)"
}

status_field() { sed -n "s/^$2:[[:space:]]*//p" /proc/$1/status; }
switches() { echo $(($(status_field $1 voluntary_ctxt_switches) + $(status_field $1 nonvoluntary_ctxt_switches))); }
# Times the scheduler has put $1 on a CPU (the third field of schedstat): it only grows, and a
# wake-up counts here the moment it runs, before its handler.
runs() { cut -d' ' -f3 /proc/$1/schedstat; }
# utime + stime, in clock ticks.
ticks() { sed 's/.*) //' /proc/$1/stat | awk '{ print $12 + $13 }'; }
state() { sed 's/.*) //' /proc/$1/stat | cut -d' ' -f1; }
sleeping() { read -r nr rest </proc/$1/syscall 2>/dev/null && [ "$nr" = "$SLEEP_NR" ]; }
# Whether $1 is off the CPU: reading /proc/PID/syscall of a task that is not running waits until
# it has really switched out; one still running reads "running".
off_cpu() { read -r nr rest </proc/$1/syscall 2>/dev/null && [ "$nr" != running ]; }
# Whether pause has been woken since `runs` read $2, for the host to judge: a signal pending
# (made pending before its target is woken), or runnable, or put on a CPU since. Read in that
# order: a wake-up under way when the reading starts is pending, or running, or has run by the
# time the run count is read last; reading the count first would miss one that runs after it.
wake_evidence() {
    pnd="sigpnd=$(status_field $1 SigPnd) shdpnd=$(status_field $1 ShdPnd)"
    st="state=$(state $1)"
    echo "$pnd $st runs_before=$2 runs_after=$(runs $1)"
}
# One line per child of $1: its state letter and PID (comm, in parentheses, may hold spaces).
children() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v p=$1 '{ pid = $1; sub(/.*\) /, ""); if ($2 == p) print $1, pid }'
}
nchildren() { children $1 | wc -l; }
nzombies() { children $1 | grep -c '^Z'; }
nalive() { children $1 | grep -vc '^Z'; }

# Sets p to the PID of the (one) pause once it sleeps; on failure kills it so that the
# foreground run ends, and reports why.
find_pause() {
    if until_ 'p=$(pidof pause) && sleeping $p'; then return 0; fi
    say "$1" error=never-slept
    killall -9 pause
    return 1
}

# Makes $2 held orphans inside pause's ($1) namespace; sets made (as counted by the maker) and
# landed (pause's children right after: all of them, alive).
hold_orphans() {
    nsenter -t $1 -p -- sh /tmp/orphans.sh $2 >/tmp/made
    made=$(grep -c made /tmp/made)
    landed=$(nalive $1)
}
release_orphans() { yes '' | head -n $1 >&3; }

# Runs "$@" in the foreground: stdout, stderr and the status land in /tmp/out, /tmp/err, $st.
fg() {
    "$@" >/tmp/out 2>/tmp/err
    st=$?
}
report() { say "$1" status=$st out=$(hex /tmp/out) err=$(hex /tmp/err) "$2"; }

# The gate the held orphans read: /init keeps it open for reading and writing, so opening it
# never blocks, and releases N orphans by writing N lines (busybox's read takes one byte at a
# time from a pipe, so each orphan takes exactly one line).
mkfifo /tmp/gate
exec 3<>/tmp/gate

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

    # Every orphan held until all have landed, then released: made, landed and reaped counted.
    hold_orphans $p $ORPHANS
    release_orphans $made
    settle '[ $(nchildren $p) -eq 0 ]'
    say init-orphans made=$made landed=$landed left=$(nchildren $p) zombies=$(nzombies $p)

    # A stopped child: with SA_NOCLDSTOP neither its stop nor its continue wakes pause. The
    # barrier for each is the child off the CPU in its new state: the kernel notifies the parent
    # before the stopping child switches out (do_signal_stop), and a continued child notifies
    # it before it can sleep again (get_signal). A wake-up either caused is then already
    # visible in pause's pending signals, state or run count: nothing to wait for after.
    hold_orphans $p 1
    c=$(children $p | awk '{ print $2 }')
    until_ '[ "$(state $c)" = S ] && off_cpu $c && sleeping $p'
    r0=$(runs $p)
    kill -STOP $c
    until_ '[ "$(state $c)" = T ] && off_cpu $c'
    say init-stopped child_state=$(state $c) $(wake_evidence $p $r0)
    r0=$(runs $p)
    kill -CONT $c
    until_ '[ "$(state $c)" = S ] && off_cpu $c'
    say init-continued child_state=$(state $c) $(wake_evidence $p $r0)
    release_orphans 1
    settle '[ $(nchildren $p) -eq 0 ]'
    say init-stopped-reaped left=$(nchildren $p)

    # The control for the readings above and below: a signal pause handles does wake it.
    until_ 'sleeping $p'
    r0=$(runs $p)
    kill -CHLD $p
    settle '[ $(runs $p) -gt $r0 ]'
    say init-woken runs_before=$r0 runs_after=$(runs $p)

    # Idle: not one wake-up, not one tick. Measured from when pause is back in its sleep.
    until_ 'sleeping $p'
    r0=$(runs $p)
    t0=$(ticks $p)
    sleep 2
    say init-idle runs_before=$r0 runs_after=$(runs $p) ticks_before=$t0 ticks_after=$(ticks $p)

    # No handler, sent from inside the namespace: the kernel drops them when they are sent
    # (never queued), so right after the kill there is nothing that could still come.
    for sig in HUP USR1 QUIT; do
        r0=$(runs $p)
        nsenter -t $p -p -- kill -$sig 1
        sent=$?
        alive=no
        sleeping $p && alive=yes
        say init-unhandled-$sig sent=$sent alive=$alive $(wake_evidence $p $r0)
    done

    kill -TERM $p
}
init_cases &
fg unshare -p -f $P
wait
report init-term

# SIGTERM in the middle of an orphan storm. Certain, not sampled: held orphans are pending on
# pause (its children, unreapable until released, which never happens), and the storm, an
# endless loop inside pause's namespace, has done at least three bursts and can only end when
# the namespace dies with pause; how it ended is reported.
storm() {
    find_pause storm || return
    hold_orphans $p 20
    : >/tmp/bursts
    nsenter -t $p -p -- sh /tmp/storm.sh 2>/dev/null &
    s=$!
    until_ '[ $(wc -l </tmp/bursts) -ge 3 ]'
    pending=$(nalive $p)
    kill -TERM $p
    wait $s
    storm_status=$?
    say storm-at-term made=$made landed=$landed pending=$pending storm_status=$storm_status
}
storm &
fg unshare -p -f $P
wait
report storm-term

say done
poweroff -f
