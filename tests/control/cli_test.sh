#!/usr/bin/env bash
# Integration tests for vnetd + vnetctl: real processes, a temporary state and
# run directory, exact output and exit-code checks.
#
#   cli_test.sh SCENARIO VNETD VNETCTL DATA_DIR
#
# SCENARIO is one of: lifecycle errors daemon restart validate update peercred ports
# Every daemon started here is killed on exit, whatever happens.
set -u

scenario=$1
VNETD=$2
VNETCTL=$3
DATA=$4

TMP=$(mktemp -d /tmp/vnet-cli.XXXXXX)
STATE=$TMP/state
RUN=$TMP/run
SOCK=$RUN/vnetd.sock
LOG=$TMP/vnetd.log
export VNET_SOCKET=$SOCK

DAEMON_PIDS=()
FAILURES=0
CHECKS=0

cleanup() {
  local pid
  for pid in "${DAEMON_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${DAEMON_PIDS[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [ "$FAILURES" -ne 0 ] && [ -f "$LOG" ]; then
    echo "---- vnetd log ----"
    cat "$LOG"
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  FAILURES=$((FAILURES + 1))
}

# expect NAME RC STDOUT STDERR -- COMMAND...
# Runs COMMAND and compares exit code, stdout and stderr byte for byte
# (STDOUT/STDERR are printf '%s' strings, so trailing blank lines count).
expect() {
  local name=$1 rc=$2 out=$3 err=$4
  shift 5
  CHECKS=$((CHECKS + 1))
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got_rc=$?
  printf '%s' "$out" >"$TMP/exp_out"
  printf '%s' "$err" >"$TMP/exp_err"
  if [ "$got_rc" -ne "$rc" ]; then
    fail "$name: exit code $got_rc, expected $rc"
    echo "  stdout: $(cat "$TMP/out")"
    echo "  stderr: $(cat "$TMP/err")"
    return
  fi
  if ! cmp -s "$TMP/out" "$TMP/exp_out"; then
    fail "$name: stdout differs"
    diff -u "$TMP/exp_out" "$TMP/out" | sed 's/^/  /'
  fi
  if ! cmp -s "$TMP/err" "$TMP/exp_err"; then
    fail "$name: stderr differs"
    diff -u "$TMP/exp_err" "$TMP/err" | sed 's/^/  /'
  fi
}

# expect_grep NAME FILE PATTERN: FILE contains the fixed string PATTERN.
expect_grep() {
  CHECKS=$((CHECKS + 1))
  if ! grep -qF -- "$3" "$2"; then
    fail "$1: '$3' not found in $2"
    sed 's/^/  | /' "$2"
  fi
}

expect_no_grep() {
  CHECKS=$((CHECKS + 1))
  if grep -qF -- "$3" "$2"; then
    fail "$1: '$3' unexpectedly found in $2"
  fi
}

ctl() { "$VNETCTL" "$@"; }

# start_daemon [EXTRA ARGS...]: start vnetd and wait until it answers.
start_daemon() {
  "$VNETD" --state-dir "$STATE" --run-dir "$RUN" --log-level debug --hugepages no --pmd-idle-sleep-us 100 \
    "$@" 2>>"$LOG" &
  DAEMON_PID=$!
  DAEMON_PIDS+=("$DAEMON_PID")
  for _ in $(seq 100); do
    if ! kill -0 "$DAEMON_PID" 2>/dev/null; then
      fail "vnetd exited during start-up"
      return 1
    fi
    if ctl -q net-list >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.05
  done
  fail "vnetd did not answer within 5 s"
  return 1
}

# stop_daemon: SIGTERM, expect a clean exit 0 and the socket removed.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  wait "$DAEMON_PID"
  local rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 0 ] || fail "vnetd exited with $rc after SIGTERM"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$SOCK" ] || fail "socket $SOCK left behind after SIGTERM"
}

uuid_of() { ctl -q net-uuid "$1"; }

empty_list=' Name   State   Autostart   Persistent
----------------------------------------

'

# ----------------------------------------------------------------------------
scenario_lifecycle() {
  start_daemon || return
  expect "list empty" 0 "$empty_list" "" -- ctl net-list
  expect "define default" 0 "Network default defined from $DATA/default.xml

" "" -- ctl net-define "$DATA/default.xml"
  CHECKS=$((CHECKS + 1))
  [ -f "$STATE/networks/default.xml" ] || fail "networks/default.xml not written"

  expect "list active only" 0 "$empty_list" "" -- ctl net-list
  expect "list all" 0 ' Name      State      Autostart   Persistent
----------------------------------------------
 default   inactive   no          yes

' "" -- ctl net-list --all
  expect "list inactive" 0 ' Name      State      Autostart   Persistent
----------------------------------------------
 default   inactive   no          yes

' "" -- ctl net-list --inactive

  local uuid
  uuid=$(uuid_of default)
  CHECKS=$((CHECKS + 1))
  [[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || fail "bad uuid '$uuid'"
  expect "net-uuid" 0 "$uuid

" "" -- ctl net-uuid default
  expect "net-name" 0 "default

" "" -- ctl net-name "$uuid"

  expect "start" 0 "Network default started

" "" -- ctl net-start default
  expect "list active" 0 ' Name      State    Autostart   Persistent
--------------------------------------------
 default   active   no          yes

' "" -- ctl net-list
  expect "info" 0 "Name:           default
UUID:           $uuid
Active:         yes
Persistent:     yes
Autostart:      no
Bridge:         virbr0
Ports:          0

" "" -- ctl net-info default
  expect "info by uuid" 0 "Name:           default
UUID:           $uuid
Active:         yes
Persistent:     yes
Autostart:      no
Bridge:         virbr0
Ports:          0

" "" -- ctl net-info "$uuid"

  # dumpxml --inactive is the persisted definition, live XML the same here.
  local saved
  saved=$(cat "$STATE/networks/default.xml"; echo x)
  saved=${saved%x}
  expect "dumpxml --inactive" 0 "$saved
" "" -- ctl net-dumpxml default --inactive
  expect "dumpxml live" 0 "$saved
" "" -- ctl net-dumpxml default
  expect_grep "dumpxml has uuid" "$STATE/networks/default.xml" "<uuid>$uuid</uuid>"
  expect_grep "dumpxml has bridge" "$STATE/networks/default.xml" "<bridge name='virbr0' stp='on' delay='0'/>"
  expect_grep "dumpxml has forward" "$STATE/networks/default.xml" "<forward mode='nat'/>"
  expect_grep "dumpxml has mac" "$STATE/networks/default.xml" "<mac address='52:54:00:"
  expect_grep "dumpxml has range" "$STATE/networks/default.xml" \
    "<range start='192.168.122.2' end='192.168.122.254'/>"

  expect "autostart" 0 "Network default marked as autostarted

" "" -- ctl net-autostart default
  CHECKS=$((CHECKS + 1))
  [ -f "$STATE/autostart/default" ] || fail "autostart marker missing"
  expect "list --autostart" 0 "default

" "" -- ctl net-list --autostart --name
  expect "list --no-autostart" 0 "
" "" -- ctl net-list --no-autostart --name
  expect "list --uuid" 0 "$uuid

" "" -- ctl net-list --uuid
  expect "list --name --uuid" 1 "" "error: Only one argument from --table, --name and --uuid may be specified.
" -- ctl net-list --name --uuid

  ctl --json net-info default >"$TMP/json" 2>&1
  expect_grep "json name" "$TMP/json" '"name": "default"'
  expect_grep "json active" "$TMP/json" '"active": true'
  expect_grep "json autostart" "$TMP/json" '"autostart": true'
  expect_grep "json bridge" "$TMP/json" '"bridge": "virbr0"'
  CHECKS=$((CHECKS + 1))
  [ "$(ctl net-list --all --json | jq -r '.[0].uuid')" = "$uuid" ] || fail "net-list --json uuid"

  expect "autostart --disable" 0 "Network default unmarked as autostarted

" "" -- ctl net-autostart default --disable
  CHECKS=$((CHECKS + 1))
  [ ! -e "$STATE/autostart/default" ] || fail "autostart marker not removed"

  expect "quiet start of active fails" 1 "" "error: network is already active
" -- ctl -q net-start default
  expect "destroy" 0 "Network default destroyed

" "" -- ctl net-destroy default
  expect "undefine" 0 "Network default has been undefined

" "" -- ctl net-undefine default
  CHECKS=$((CHECKS + 1))
  [ ! -e "$STATE/networks/default.xml" ] || fail "networks/default.xml not removed"
  expect "list all empty" 0 "$empty_list" "" -- ctl net-list --all

  # Transient networks: net-create, undefine refused, destroy removes.
  expect "create" 0 "Network iso created from $DATA/iso.xml

" "" -- ctl net-create "$DATA/iso.xml"
  expect "list transient" 0 ' Name   State    Autostart   Persistent
-----------------------------------------
 iso    active   no          no

' "" -- ctl net-list --transient
  CHECKS=$((CHECKS + 1))
  [ ! -e "$STATE/networks/iso.xml" ] || fail "transient network persisted"
  expect "undefine transient" 1 "" "error: can't undefine transient network
" -- ctl net-undefine iso
  expect "autostart transient" 1 "" "error: cannot set autostart for transient network
" -- ctl net-autostart iso
  expect "destroy transient" 0 "Network iso destroyed

" "" -- ctl net-destroy iso
  expect "transient gone" 0 "$empty_list" "" -- ctl net-list --all

  # Undefine of an active persistent network leaves it running, transient.
  ctl -q net-define "$DATA/iso.xml" && ctl -q net-start iso
  expect "undefine active" 0 "Network iso has been undefined

" "" -- ctl net-undefine iso
  expect "now transient" 0 ' Name   State    Autostart   Persistent
-----------------------------------------
 iso    active   no          no

' "" -- ctl net-list --all
  expect "destroy removes" 0 "Network iso destroyed

" "" -- ctl net-destroy iso
  expect "all gone" 0 "$empty_list" "" -- ctl net-list --all
  stop_daemon
}

# ----------------------------------------------------------------------------
scenario_errors() {
  start_daemon || return
  expect "unknown start" 1 "" "error: Network not found: no network with matching name 'nosuch'
" -- ctl net-start nosuch
  expect "unknown info" 1 "" "error: Network not found: no network with matching name 'nosuch'
" -- ctl net-info nosuch
  expect "unknown dumpxml" 1 "" "error: Network not found: no network with matching name 'nosuch'
" -- ctl net-dumpxml nosuch
  expect "unknown name by uuid" 1 "" "error: Network not found: no network with matching uuid '7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60'
" -- ctl net-name 7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60
  expect "unknown destroy" 1 "" "error: Network not found: no network with matching name 'nosuch'
" -- ctl net-destroy nosuch
  expect "unknown undefine" 1 "" "error: Network not found: no network with matching name 'nosuch'
" -- ctl net-undefine nosuch

  ctl -q net-define "$DATA/default.xml"
  local uuid
  uuid=$(uuid_of default)
  expect "duplicate name" 1 "" "error: network 'default' already exists with uuid $uuid
" -- ctl net-define "$DATA/default.xml"
  ctl -q net-define "$DATA/iso.xml"
  expect "duplicate uuid" 1 "" "error: network 'iso' is already defined with uuid 7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60
" -- ctl net-define "$DATA/iso-renamed.xml"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$STATE/networks/iso2.xml" ] || fail "failed define wrote a file"

  ctl net-define "$DATA/malformed.xml" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 1 ] || fail "malformed XML: exit code $rc"
  CHECKS=$((CHECKS + 1))
  [ ! -s "$TMP/out" ] || fail "malformed XML: stdout not empty"
  CHECKS=$((CHECKS + 1))
  [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q '^error: ' "$TMP/err" || fail "malformed XML: stderr '$(cat "$TMP/err")'"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$STATE/networks/broken.xml" ] || fail "malformed XML was persisted"

  expect "same bridge at define" 1 "" "error: bridge name 'virbr0' already in use.
" -- ctl net-define "$DATA/samebr.xml"

  ctl -q net-start default
  expect "start active" 1 "" "error: network is already active
" -- ctl net-start default
  expect "destroy inactive" 1 "" "error: network is not active
" -- ctl net-destroy iso
  ctl -q net-define "$DATA/clash.xml"
  expect "overlapping subnet at start" 1 "" "error: IP subnet 192.168.122.128/25 of network 'clash' overlaps with 192.168.122.0/24 of active network 'default'
" -- ctl net-start clash
  expect "overlap left it inactive" 0 ' Name      State      Autostart   Persistent
----------------------------------------------
 clash     inactive   no          yes
 default   active     no          yes
 iso       inactive   no          yes

' "" -- ctl net-list --all
  ctl -q net-undefine clash
  expect "overlapping subnet at create" 1 "" "error: IP subnet 192.168.122.128/25 of network 'clash' overlaps with 192.168.122.0/24 of active network 'default'
" -- ctl net-create "$DATA/clash.xml"
  expect "create of an active network" 1 "" "error: network is already active as 'default'
" -- ctl net-create "$STATE/networks/default.xml"

  # Command-line errors, virsh wording.
  expect "unknown verb" 1 "" "error: unknown command: 'net-frob'
" -- ctl net-frob
  expect "missing argument" 1 "" "error: command 'net-start' requires <network> option
" -- ctl net-start
  expect "unknown option" 1 "" "error: command 'net-start' doesn't support option --bogus
" -- ctl net-start default --bogus
  expect "extra argument" 1 "" "error: unexpected data 'extra'
" -- ctl net-start default extra
  expect "missing file" 1 "" "error: Failed to open file '$TMP/nope.xml': No such file or directory
" -- ctl net-define "$TMP/nope.xml"
  expect "no daemon" 1 "" "error: Failed to connect socket to '$TMP/none.sock': No such file or directory
" -- ctl --socket "$TMP/none.sock" net-list
  expect "no daemon via env" 1 "" "error: Failed to connect socket to '$TMP/none.sock': No such file or directory
" -- env VNET_SOCKET="$TMP/none.sock" "$VNETCTL" net-list
  expect "update bad command" 1 "" "error: unrecognized command name 'frob'
" -- ctl net-update default frob ip-dhcp-host "<host mac='52:54:00:00:00:09' ip='192.168.122.9'/>"
  expect "update current+live" 1 "" "error: Options --current and --live are mutually exclusive
" -- ctl net-update default add ip-dhcp-host "<host/>" --current --live
  stop_daemon
}

# ----------------------------------------------------------------------------
scenario_daemon() {
  start_daemon || return
  local first=$DAEMON_PID
  ctl -q net-define "$DATA/iso.xml"

  # A second vnetd on the live socket refuses to start and changes nothing.
  "$VNETD" --state-dir "$TMP/state2" --run-dir "$RUN" 2>"$TMP/second.log"
  local rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 1 ] || fail "second vnetd exited with $rc, expected 1"
  expect_grep "second vnetd message" "$TMP/second.log" "error: another vnetd is already running on socket '$SOCK'"
  CHECKS=$((CHECKS + 1))
  kill -0 "$first" 2>/dev/null || fail "first vnetd died"
  CHECKS=$((CHECKS + 1))
  [ -S "$SOCK" ] || fail "socket of the first vnetd was removed"
  expect "first still serves" 0 "iso

" "" -- ctl net-list --all --name

  # Socket mode 0660.
  CHECKS=$((CHECKS + 1))
  [ "$(stat -c %a "$SOCK")" = "660" ] || fail "socket mode $(stat -c %a "$SOCK"), expected 660"

  # A second vnetd on another socket but the same state dir is refused too.
  "$VNETD" --state-dir "$STATE" --socket "$TMP/other.sock" 2>"$TMP/third.log"
  rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 1 ] || fail "third vnetd exited with $rc, expected 1"
  expect_grep "state dir in use" "$TMP/third.log" "is in use by another vnetd"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$TMP/other.sock" ] || fail "refused vnetd left its socket"

  # A crash leaves a stale socket; the next vnetd removes it and starts.
  kill -KILL "$first"
  wait "$first" 2>/dev/null
  CHECKS=$((CHECKS + 1))
  [ -S "$SOCK" ] || fail "expected a stale socket after SIGKILL"

  # Corrupt state files are logged and skipped.
  printf '<network><name>bad</name>' >"$STATE/networks/bad.xml"
  printf 'not xml at all' >"$STATE/networks/garbage.xml"
  sed 's/<name>iso</<name>other</' "$STATE/networks/iso.xml" >"$STATE/networks/mismatch.xml"
  : >"$LOG"
  start_daemon || return
  expect_grep "stale socket removed" "$LOG" "removed stale socket '$SOCK'"
  expect_grep "bad.xml skipped" "$LOG" "warning: skipping network file '$STATE/networks/bad.xml': "
  expect_grep "garbage.xml skipped" "$LOG" "warning: skipping network file '$STATE/networks/garbage.xml': "
  expect_grep "mismatch skipped" "$LOG" "does not match network name 'other'"
  expect "good network loaded" 0 "iso

" "" -- ctl net-list --all --name

  # Same bridge name on disk (hand-edited state): caught when starting.
  sed -e 's/<name>iso</<name>iso3</' -e 's/7b2a1c5e/9b2a1c5e/' -e 's/10\.10\.0/10.40.0/' \
    "$STATE/networks/iso.xml" >"$STATE/networks/iso3.xml"
  stop_daemon
  start_daemon || return
  ctl -q net-start iso
  expect "same bridge at start" 1 "" "error: bridge name 'virbr5' is already in use by active network 'iso'
" -- ctl net-start iso3

  # Logged request handling and a clean SIGINT shutdown.
  kill -INT "$DAEMON_PID"
  wait "$DAEMON_PID"
  rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 0 ] || fail "vnetd exited with $rc after SIGINT"
  expect_grep "SIGINT logged" "$LOG" "received SIGINT, shutting down"
  CHECKS=$((CHECKS + 1))
  [ ! -e "$SOCK" ] || fail "socket left after SIGINT"

  # Options from a config file.
  printf 'state-dir = %s\nrun-dir = %s\nsocket = %s\nlog-level = debug\nhugepages = no\npmd-idle-sleep-us = 100\n' \
    "$STATE" "$RUN" "$TMP/cfg.sock" \
    >"$TMP/vnetd.conf"
  "$VNETD" --config "$TMP/vnetd.conf" 2>>"$LOG" &
  DAEMON_PID=$!
  DAEMON_PIDS+=("$DAEMON_PID")
  for _ in $(seq 100); do
    ctl --socket "$TMP/cfg.sock" -q net-list >/dev/null 2>&1 && break
    sleep 0.05
  done
  expect "config file socket" 0 "iso
iso3

" "" -- ctl --socket "$TMP/cfg.sock" net-list --all --name
  stop_daemon

  "$VNETD" --log-level chatty 2>"$TMP/opt.log"
  rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 1 ] || fail "bad option: exit $rc"
  expect_grep "bad log level" "$TMP/opt.log" "invalid log level 'chatty'"
}

# ----------------------------------------------------------------------------
scenario_restart() {
  start_daemon || return
  ctl -q net-define "$DATA/default.xml"
  ctl -q net-define "$DATA/iso.xml"
  ctl -q net-start default
  ctl -q net-start iso
  ctl -q net-autostart default
  ctl -q net-create "$DATA/samebr.xml" 2>/dev/null # refused: bridge in use
  local uuid
  uuid=$(uuid_of default)
  cp "$STATE/networks/default.xml" "$TMP/default.before"
  expect "before restart" 0 ' Name      State    Autostart   Persistent
--------------------------------------------
 default   active   yes         yes
 iso       active   no          yes

' "" -- ctl net-list --all
  stop_daemon
  expect_grep "stop logged" "$LOG" "received SIGTERM, shutting down"

  start_daemon || return
  expect "after restart" 0 ' Name      State      Autostart   Persistent
----------------------------------------------
 default   active     yes         yes
 iso       inactive   no          yes

' "" -- ctl net-list --all
  expect "same uuid after restart" 0 "$uuid

" "" -- ctl net-uuid default
  CHECKS=$((CHECKS + 1))
  cmp -s "$TMP/default.before" "$STATE/networks/default.xml" || fail "definition changed across restart"

  # Redefine an active network: applies at next start, --inactive shows it.
  sed 's/192\.168\.122\.254/192.168.122.200/' "$STATE/networks/default.xml" >"$TMP/default-new.xml"
  expect "redefine active" 0 "Network default defined from $TMP/default-new.xml

" "" -- ctl net-define "$TMP/default-new.xml"
  ctl net-dumpxml default >"$TMP/live.xml"
  ctl net-dumpxml default --inactive >"$TMP/inactive.xml"
  expect_grep "live keeps old range" "$TMP/live.xml" "end='192.168.122.254'"
  expect_grep "inactive has new range" "$TMP/inactive.xml" "end='192.168.122.200'"
  ctl -q net-destroy default
  ctl -q net-start default
  ctl net-dumpxml default >"$TMP/live.xml"
  expect_grep "new range after restart" "$TMP/live.xml" "end='192.168.122.200'"

  ctl -q net-destroy default
  ctl -q net-undefine default
  ctl -q net-undefine iso
  expect "all gone" 0 "$empty_list" "" -- ctl net-list --all
  stop_daemon
  start_daemon || return
  expect "still gone after restart" 0 "$empty_list" "" -- ctl net-list --all
  stop_daemon
}

# ----------------------------------------------------------------------------
scenario_validate() {
  # Offline: no daemon anywhere.
  export VNET_SOCKET=$TMP/none.sock
  expect "valid" 0 "$DATA/default.xml validates

" "" -- ctl net-validate "$DATA/default.xml"
  expect "valid quiet" 0 "" "" -- ctl -q net-validate "$DATA/iso.xml"
  expect "print" 0 "<network>
  <name>iso</name>
  <uuid>7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60</uuid>
  <bridge name='virbr5' stp='on' delay='0'/>
  <ip address='10.10.0.1' prefix='24'>
  </ip>
</network>

" "" -- ctl net-validate "$DATA/iso.xml" --print
  expect "print --inactive" 0 "<network>
  <name>iso</name>
  <uuid>7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60</uuid>
  <bridge name='virbr5' stp='on' delay='0'/>
  <ip address='10.10.0.1' prefix='24'>
  </ip>
</network>

" "" -- ctl net-validate "$DATA/iso.xml" --print --inactive
  ctl net-validate "$DATA/malformed.xml" >"$TMP/out" 2>"$TMP/err"
  local rc=$?
  CHECKS=$((CHECKS + 1))
  [ "$rc" -eq 1 ] || fail "invalid: exit code $rc"
  CHECKS=$((CHECKS + 1))
  grep -q '^error: ' "$TMP/err" || fail "invalid: stderr '$(cat "$TMP/err")'"
  expect "missing file" 1 "" "error: Failed to open file '$TMP/x.xml': No such file or directory
" -- ctl net-validate "$TMP/x.xml"
  ctl --json net-validate "$DATA/iso.xml" >"$TMP/json"
  CHECKS=$((CHECKS + 1))
  [ "$(jq -r .name "$TMP/json")/$(jq -r .valid "$TMP/json")" = "iso/true" ] || fail "validate --json"
}

# ----------------------------------------------------------------------------
scenario_update() {
  start_daemon || return
  ctl -q net-define "$DATA/default.xml"
  ctl -q net-start default
  local host1="<host mac='52:54:00:00:00:01' name='vm1' ip='192.168.122.10'/>"
  expect "update live+config" 0 "Updated network default persistent config and live state
" "" -- ctl net-update default add ip-dhcp-host "$host1" --live --config
  ctl net-dumpxml default >"$TMP/live.xml"
  ctl net-dumpxml default --inactive >"$TMP/inactive.xml"
  expect_grep "host in live" "$TMP/live.xml" "      $host1"
  expect_grep "host in inactive" "$TMP/inactive.xml" "      $host1"
  expect_grep "host on disk" "$STATE/networks/default.xml" "      $host1"

  expect "update config from file" 0 "Updated network default persistent config
" "" -- ctl net-update default add-last ip-dhcp-host "$DATA/dhcp-host.xml" --config
  ctl net-dumpxml default >"$TMP/live.xml"
  expect_no_grep "file host not live" "$TMP/live.xml" "vm2"
  expect_grep "file host on disk" "$STATE/networks/default.xml" "name='vm2'"

  expect "update current (active: live)" 0 "Updated network default live state
" "" -- ctl net-update default delete ip-dhcp-host "$host1"
  ctl net-dumpxml default >"$TMP/live.xml"
  expect_no_grep "host deleted live" "$TMP/live.xml" "vm1"
  expect_grep "host kept on disk" "$STATE/networks/default.xml" "vm1"

  ctl -q net-destroy default
  expect "update --live inactive" 1 "" "error: network is not running
" -- ctl net-update default add ip-dhcp-host "$host1" --live
  expect "update current (inactive: config)" 0 "Updated network default persistent config
" "" -- ctl net-update default delete ip-dhcp-host "$host1"
  expect_no_grep "deleted on disk" "$STATE/networks/default.xml" "vm1"
  expect "update quiet" 0 "" "" -- ctl -q net-update default delete ip-dhcp-host "$DATA/dhcp-host.xml"
  stop_daemon
}

# ----------------------------------------------------------------------------
scenario_peercred() {
  if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    echo "SKIP: needs root and setpriv"
    exit 77
  fi
  local nobody_gid
  nobody_gid=$(getent group nogroup | cut -d: -f3)
  [ -n "$nobody_gid" ] || { echo "SKIP: no 'nogroup' group"; exit 77; }
  chmod 0755 "$TMP"
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  # uid 65533 has no passwd entry, so no group membership either.
  as_stranger() { setpriv --reuid=65533 --regid=65533 --clear-groups "$@"; }

  start_daemon --socket-group nogroup || return
  CHECKS=$((CHECKS + 1))
  [ "$(stat -c %g "$SOCK")" = "$nobody_gid" ] || fail "socket group $(stat -c %g "$SOCK"), expected $nobody_gid"
  chmod 0755 "$RUN"
  expect "group member allowed" 0 "$empty_list" "" -- as_nobody "$VNETCTL" net-list
  # Open the file permissions so that only SO_PEERCRED stands in the way.
  chmod 0666 "$SOCK"
  expect "other user refused" 1 "" "error: access denied: not root, not vnetd's user and not in the socket group
" -- as_stranger "$VNETCTL" net-list
  expect_grep "refusal logged" "$LOG" "refused a connection from pid"
  expect_grep "refused uid logged" "$LOG" "uid 65533 gid 65533"
  stop_daemon
}

# ----------------------------------------------------------------------------
# Port and FDB verbs, exact text: vnetd --no-dataplane records ports without
# DPDK (the integration suite runs them on the real switch).
scenario_ports() {
  start_daemon --no-dataplane || return
  ctl -q net-define "$DATA/iso.xml"
  expect "port-add on inactive" 1 "" "error: network 'iso' is not active
" -- ctl port-add iso
  ctl -q net-start iso
  ctl port-add iso --name vm1 >"$TMP/add.out" 2>"$TMP/add.err"
  local mac
  mac=$(sed -n 's/^MAC: *//p' "$TMP/add.out")
  CHECKS=$((CHECKS + 1))
  [[ "$mac" =~ ^52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "port-add MAC '$mac'"
  printf '%s' "Port vm1 added to network iso
Socket:    $RUN/iso/vm1.sock (vnetd listens, QEMU connects)
MAC:       $mac

QEMU arguments:
  -chardev socket,id=chr-vm1,path=$RUN/iso/vm1.sock \\
  -netdev vhost-user,id=net-vm1,chardev=chr-vm1 \\
  -device virtio-net-pci,netdev=net-vm1,mac=$mac
  (guest RAM must be shared: -object memory-backend-memfd,id=mem0,size=RAM,share=on -machine memory-backend=mem0)

libvirt <devices> snippet (needs <memoryBacking><access mode='shared'/>):
<interface type='vhostuser'>
  <mac address='$mac'/>
  <source type='unix' path='$RUN/iso/vm1.sock' mode='client'/>
  <model type='virtio'/>
</interface>

" >"$TMP/add.exp"
  CHECKS=$((CHECKS + 1))
  if ! cmp -s "$TMP/add.exp" "$TMP/add.out"; then
    fail "port-add text differs"
    diff -u "$TMP/add.exp" "$TMP/add.out" | sed 's/^/  /'
  fi
  expect "port-add tap" 0 "Port tap9 added to network iso
Type:      tap
Interface: tap9

" "" -- ctl port-add iso --type tap --ifname tap9
  # mktemp names have a fixed length, so the socket column has too.
  expect "port-list" 0 " Name   Type        Socket/Interface                        Mode     Link   MACs   Queues
-------------------------------------------------------------------------------------------
 tap9   tap         tap9                                    -        down   0      -
 vm1    vhostuser   $RUN/iso/vm1.sock   server   down   0      1

" "" -- ctl port-list iso
  expect "port-stats" 0 " Port   RX packets   RX bytes   TX packets   TX bytes   Drops
---------------------------------------------------------------
 vm1    0            0          0            0          -

" "" -- ctl port-stats iso --port vm1
  expect "fdb-show empty" 0 " Port   MAC addr   VLAN   Is local?   Ageing timer
----------------------------------------------------

" "" -- ctl fdb-show iso
  expect "fdb-flush" 0 "Flushed the FDB of network iso

" "" -- ctl fdb-flush iso
  expect "fdb-flush port" 0 "Flushed the FDB entries of port vm1 in network iso

" "" -- ctl fdb-flush iso --port vm1
  expect "fdb-setageing" 0 "Ageing time of network iso set to 120 seconds

" "" -- ctl fdb-setageing iso 120
  expect "net-info ports" 0 "Name:           iso
UUID:           7b2a1c5e-0d9f-4a36-8e4b-1f2c3d4e5f60
Active:         yes
Persistent:     yes
Autostart:      no
Bridge:         virbr5
Ports:          2

" "" -- ctl net-info iso
  expect "port-remove" 0 "Port tap9 removed from network iso

" "" -- ctl port-remove iso tap9
  expect "port-remove again" 1 "" "error: network 'iso' has no port 'tap9'
" -- ctl port-remove iso tap9
  expect_grep "ports persisted" "$STATE/ports/iso.json" '"ageing_s": 120'
  expect_grep "port persisted" "$STATE/ports/iso.json" "\"mac\": \"$mac\""
  stop_daemon
  start_daemon --no-dataplane || return
  ctl -q net-start iso
  expect "ports after restart" 0 "vm1
" "" -- sh -c "\"$VNETCTL\" --json port-list iso | sed -n 's/^ *\"name\": \"\\(.*\\)\",\$/\\1/p'"
}

case "$scenario" in
  lifecycle | errors | daemon | restart | validate | update | peercred | ports) "scenario_$scenario" ;;
  *)
    echo "unknown scenario '$scenario'"
    exit 2
    ;;
esac

echo "$scenario: $CHECKS checks, $FAILURES failures"
[ "$FAILURES" -eq 0 ]
