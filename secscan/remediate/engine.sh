# ---------------------------------------------------------------------------------------------
# The engine: the same in every Linux script secscan writes (secscan/remediate/engine.sh). Everything
# above is this script's data: the unit, the PCs it may touch and the fixes from the catalogue.
# POSIX sh (dash, bash, busybox ash): no arrays, no local, no [[ ]].
# ---------------------------------------------------------------------------------------------

say() { printf 'secscan remediate: %s\n' "$*"; }
stop_run() { printf 'secscan remediate: %s\n' "$2" >&2; exit "$1"; }
lower() { printf '%s' "$1" | tr 'ABCDEFGHIJKLMNOPQRSTUVWXYZ' 'abcdefghijklmnopqrstuvwxyz'; }
# The value of KEY in a state line "k1=v1 k2=v2" (values hold no space).
state_value() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
one_line() { printf '%s' "$*" | tr '\t\r\n' '   '; }
fn_of() { printf '%s' "$1" | tr '-' '_'; }  # a fix id as part of a function name

# 1. What to do: --dry-run (the default) reads and prints only; --apply changes; --undo restores.
MODE=dry-run
for arg in "$@"; do
  case $arg in
    --apply) [ "$MODE" = dry-run ] || stop_run 2 'give one of --dry-run, --apply, --undo'; MODE=apply ;;
    --undo) [ "$MODE" = dry-run ] || stop_run 2 'give one of --dry-run, --apply, --undo'; MODE=undo ;;
    --dry-run) ;;
    -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
    *) stop_run 2 "unknown argument (use --dry-run, --apply or --undo): $(one_line "$arg")" ;;
  esac
done

# 2. Which PC this is: its name and its /etc/machine-id must both match one entry of the list.
NAME=$(uname -n 2>/dev/null || true)
MACHINE_ID=''
if [ -r /etc/machine-id ]; then MACHINE_ID=$(head -n 1 /etc/machine-id | tr -d ' \t\r'); fi
ENTRY=''
i=1
while pc_entry "$i"; do
  if [ "$(lower "$E_HOST")" = "$(lower "$NAME")" ] && [ -n "$MACHINE_ID" ] \
     && [ "$(lower "$E_ID")" = "$(lower "$MACHINE_ID")" ]; then
    ENTRY=$i
    break
  fi
  i=$((i + 1))
done
if [ -z "$ENTRY" ]; then
  stop_run 4 "this PC ($(one_line "$NAME"), machine id $(one_line "$MACHINE_ID")) is not on the list of PCs this script was written for (unit $UNIT): nothing was read or changed"
fi
pc_entry "$ENTRY"
say "unit $UNIT, PC $NAME (machine id $MACHINE_ID), mode $MODE, script $SCRIPT_ID written $GENERATED"

# 3. root, needed to change anything.
if [ "$MODE" != dry-run ] && [ "$(id -u)" != 0 ]; then
  stop_run 3 "--$MODE needs root: run it again with sudo"
fi

# 4. The log (apply and undo): /var/log/secscan/remediation.log, readable by root only. It feeds
# --undo, so a folder or file an ordinary account owns or could replace is refused.
LOG_DIR=/var/log/secscan
LOG=$LOG_DIR/remediation.log
TAB=$(printf '\t')
prepare_log() {
  if [ -L "$LOG_DIR" ] || [ -L "$LOG" ]; then stop_run 5 "$LOG_DIR or $LOG is a symbolic link: remove it and run again"; fi
  if [ ! -d "$LOG_DIR" ]; then
    (umask 077 && mkdir -p "$LOG_DIR") || stop_run 5 "cannot create $LOG_DIR"
    say "folder $LOG_DIR created, readable by root only"
  fi
  for path in "$LOG_DIR" "$LOG"; do
    if [ -e "$path" ] && [ -n "$(find "$path" -prune \( ! -user 0 -o -perm -0002 \) -print)" ]; then
      stop_run 5 "$path is not owned by root or can be written by anyone: fix or remove it and run again"
    fi
  done
  (umask 077 && : >> "$LOG") || stop_run 5 "cannot write $LOG"
}
# One record per line, tab-separated: time script unit host machine_id action phase entry undoes
# fix control result before after detail.
log_record() {
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$SCRIPT_ID" "$UNIT" "$(one_line "$NAME")" "$MACHINE_ID" "$1" "$2" "$3" "$4" \
    "$5" "$(fix_control "$5")" "$6" "$(one_line "$7")" "$(one_line "$8")" "$(one_line "$9")" >> "$LOG"
}
new_entry() { printf '%s-%s-%s' "$(date -u +%Y%m%d%H%M%S)" "$$" "$1"; }

if [ "$MODE" != dry-run ]; then prepare_log; fi

# 5. The fixes of this PC, in the catalogue's order: check; if it still fails, change (apply),
# check again, and log before and after. A fix that already complies is left alone.
COMPLIANT=0; PENDING=0; CHANGED=0; FAILED=0; SKIPPED=0; RESTORED=0; N=0
run_check() {  # sets ok, state, skip, note from the fix's check
  ok=no; state=''; skip=''; note=''
  "fix_$(fn_of "$1")_check"
}
if [ "$MODE" != undo ]; then
  for fix in $E_FIXES; do
    N=$((N + 1))
    if ! run_check "$fix"; then say "cannot check $fix"; FAILED=$((FAILED + 1)); continue; fi
    [ -z "$note" ] || say "note on $fix: $note"
    if [ -n "$skip" ]; then say "not changed $fix: $skip"; SKIPPED=$((SKIPPED + 1)); continue; fi
    if [ "$ok" = yes ]; then say "already compliant: $(fix_title "$fix") [$fix]"; COMPLIANT=$((COMPLIANT + 1)); continue; fi
    if [ "$MODE" = dry-run ]; then
      say "WOULD CHANGE: $(fix_title "$fix") [$fix] now $state"
      PENDING=$((PENDING + 1))
      continue
    fi
    entry=$(new_entry "$N")
    before=$state
    log_record apply before "$entry" '' "$fix" started "$before" '' '' || stop_run 5 "cannot write $LOG; nothing more was changed"
    problem=''
    out=$("fix_$(fn_of "$fix")_apply" "$before" 2>&1) || problem="apply failed: $out"
    after=''
    if run_check "$fix"; then after=$state; [ "$ok" = yes ] || problem="${problem:-the check still fails after the change}"
    else problem="$problem; the check after the change failed"; fi
    if [ -z "$problem" ]; then
      log_record apply after "$entry" '' "$fix" changed "$before" "$after" ''
      say "CHANGED: $(fix_title "$fix") [$fix] $before -> $after"
      CHANGED=$((CHANGED + 1))
    else
      log_record apply after "$entry" '' "$fix" failed "$before" "$after" "$problem"
      say "FAILED: $(fix_title "$fix") [$fix] $(one_line "$problem") (now $after)"
      FAILED=$((FAILED + 1))
    fi
  done
fi

# 6. --undo: every change this script logged on this PC and has not undone yet, newest first, back
# to the state logged before it.
if [ "$MODE" = undo ]; then
  started=$(awk -F "$TAB" -v s="$SCRIPT_ID" -v m="$MACHINE_ID" '
    $2 == s && $5 == m && $6 == "undo" && $12 == "restored" { done[$9] = 1 }
    $2 == s && $5 == m && $6 == "apply" && $7 == "before" { n++; entry[n] = $8; fix[n] = $10; before[n] = $13 }
    END { for (i = n; i >= 1; i--) if (!(entry[i] in done)) print entry[i] "\t" fix[i] "\t" before[i] }' "$LOG")
  [ -n "$started" ] || say "nothing to undo: $LOG holds no change of script $SCRIPT_ID on this PC"
  while IFS="$TAB" read -r entry fix before; do
    [ -n "$entry" ] || continue
    if ! fix_control "$fix" >/dev/null; then say "cannot undo $fix: not a fix of this script"; FAILED=$((FAILED + 1)); continue; fi
    now=''; if run_check "$fix"; then now=$state; fi
    if out=$("fix_$(fn_of "$fix")_undo" "$before" 2>&1); then
      after=''; if run_check "$fix"; then after=$state; fi
      log_record undo after "$(new_entry u)" "$entry" "$fix" restored "$now" "$after" ''
      say "RESTORED: $(fix_title "$fix") [$fix] $now -> $after"
      RESTORED=$((RESTORED + 1))
    else
      log_record undo after "$(new_entry u)" "$entry" "$fix" failed "$now" '' "$out"
      say "FAILED to restore $fix: $(one_line "$out")"
      FAILED=$((FAILED + 1))
    fi
  done <<EOF_STARTED
$started
EOF_STARTED
fi

# 7. A fresh report, so that the next report shows the result: the secscan agent's systemd unit
# (deploy/linux/secscan-agent.service) when installed.
if [ $((CHANGED + RESTORED)) -gt 0 ]; then
  if command -v systemctl >/dev/null 2>&1 && systemctl cat secscan-agent.service >/dev/null 2>&1; then
    say 'starting secscan-agent.service so that the next report shows the change'
    systemctl start secscan-agent.service || say "secscan-agent.service failed (exit code $?): see journalctl -u secscan-agent"
  else
    say 'the secscan agent service is not installed: the next report comes with the next run of the agent'
  fi
fi

say "done: $COMPLIANT already compliant, $PENDING would change, $CHANGED changed, $RESTORED restored, $SKIPPED skipped, $FAILED failed"
[ "$FAILED" -eq 0 ] || exit 6
exit 0
