#!/usr/bin/env bash
# Record benchmark captures: SIPp uac -> uas calls on 127.0.0.1, recorded with tcpdump.
#
#   bench/make-capture.sh [CALLS] [OUT]
#
#   CALLS  number of calls in the base capture (default 30000; ~6 SIP messages per call)
#   OUT    base capture (default bench/out/calls-CALLS.pcap)
#
# Also builds OUT's 5x sibling (OUT with "-x5" before ".pcap"): the base recording followed by
# four more recordings of CALLS calls each, concatenated in order with `mergecap -a`. Every SIPp
# run has its own pid, and SIPp's Call-IDs are "<counter>-<pid>@<ip>", so Call-IDs (and branches
# and tags, which carry the pid too) are distinct across the whole file; this is checked after
# the merge with bench/bare-walk.mjs.
#
# Idempotent: a file that exists and is non-empty is kept unless FORCE=1.
# Environment: RATE (calls/s, default 1000), UAC_PORT / UAS_PORT (default 15060 / 15061),
# FORCE=1, NO_X5=1 (base only).
# Traffic goes to 127.0.0.1 only.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CALLS="${1:-30000}"
OUT="${2:-$ROOT/bench/out/calls-$CALLS.pcap}"
OUT="$(realpath -m "$OUT")"
X5="${OUT%.pcap}-x5.pcap"
RATE="${RATE:-1000}"
UAC_PORT="${UAC_PORT:-15060}"
UAS_PORT="${UAS_PORT:-15061}"
FORCE="${FORCE:-0}"
IP=127.0.0.1

[[ "$CALLS" =~ ^[1-9][0-9]*$ ]] || { echo "make-capture: CALLS must be a positive integer, got '$CALLS'" >&2; exit 2; }
for tool in sipp tcpdump; do
  command -v "$tool" >/dev/null || { echo "make-capture: '$tool' not found (apt-get install sip-tester tcpdump)" >&2; exit 1; }
done
mkdir -p "$(dirname "$OUT")"

port_busy() { ss -Hlun "sport = :$1" | grep -q .; }
for p in "$UAC_PORT" "$UAS_PORT"; do
  if port_busy "$p"; then echo "make-capture: UDP port $p is in use; set UAC_PORT/UAS_PORT" >&2; exit 1; fi
done

WORK="$(mktemp -d "$(dirname "$OUT")/.make-capture.XXXXXX")"
UAS_PID=""; TCPDUMP_PID=""
cleanup() {
  [[ -n "$UAS_PID" ]] && kill -TERM "$UAS_PID" 2>/dev/null || true
  [[ -n "$TCPDUMP_PID" ]] && kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# record CALLS FILE: one tcpdump, one SIPp uas, one SIPp uac making CALLS calls.
record() {
  local calls="$1" file="$2" tmp="$WORK/rec.pcap" t0 t1
  local tdlog="$WORK/tcpdump-$(basename "$file" .pcap).log"
  rm -f "$tmp" "$tdlog"
  # Background jobs of a non-interactive shell ignore SIGINT, so tcpdump is stopped with SIGTERM
  # (it flushes the file and prints its counters either way).
  tcpdump -i lo -s 0 -B 65536 -U -w "$tmp" "udp and host $IP and (port $UAC_PORT or port $UAS_PORT)" \
    >"$tdlog" 2>&1 &
  TCPDUMP_PID=$!
  for _ in $(seq 100); do grep -qs 'listening on' "$tdlog" && break; sleep 0.1; done
  grep -qs 'listening on' "$tdlog" || { cat "$tdlog" >&2; echo "make-capture: tcpdump did not start" >&2; return 1; }

  (cd "$WORK" && exec sipp -sn uas -i "$IP" -p "$UAS_PORT" -nostdin \
     -buff_size 8388608 -max_recv_loops 20000 -max_sched_loops 20000 >"$WORK/uas.log" 2>&1) &
  UAS_PID=$!
  sleep 0.5

  # -d 0: no pause between ACK and BYE, so a call ends right after it starts.
  # -timeout bounds the whole run; -l caps simultaneous calls.
  t0=$(date +%s.%N)
  local rc=0
  (cd "$WORK" && exec sipp -sn uac "$IP:$UAS_PORT" -i "$IP" -p "$UAC_PORT" -nostdin \
     -m "$calls" -r "$RATE" -l $((RATE * 3)) -d 0 \
     -buff_size 8388608 -max_recv_loops 20000 -max_sched_loops 20000 \
     -timeout $((calls / RATE * 4 + 60))s -timeout_error >"$WORK/uac.log" 2>&1) || rc=$?
  t1=$(date +%s.%N)
  sleep 1   # let the last 200 OK to BYE land

  kill -TERM "$UAS_PID" 2>/dev/null || true; wait "$UAS_PID" 2>/dev/null || true; UAS_PID=""
  kill -TERM "$TCPDUMP_PID" 2>/dev/null || true; wait "$TCPDUMP_PID" 2>/dev/null || true; TCPDUMP_PID=""

  local ok failed retrans captured dropped
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /,"",$3); print $3}' "$WORK/uac.log" | tail -1)
  failed=$(awk -F'|' '/Failed call/ {gsub(/ /,"",$3); print $3}' "$WORK/uac.log" | tail -1)
  # Retrans column of the last message table SIPp printed (it prints a table per screen refresh).
  retrans=$(awk '/Messages +Retrans/ {r=0; next}
                 /(---->|<----)/ { for (i=1;i<=NF;i++) if ($i ~ /^(-+>|<-+)$/) break;
                                   j=i+1; if ($j !~ /^[0-9]+$/) j++; r += $(j+1) }
                 END {print r+0}' "$WORK/uac.log")
  captured=$(awk '/packets captured/ {print $1}' "$tdlog")
  dropped=$(awk '/packets dropped by kernel/ {print $1}' "$tdlog")
  printf 'make-capture: %s: %s calls in %.1f s (sipp uac exit %s; successful %s, failed %s, retransmissions %s); tcpdump: %s packets captured, %s dropped by kernel\n' \
    "$(basename "$file")" "$calls" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')" "$rc" "${ok:-?}" "${failed:-?}" "${retrans:-?}" "${captured:-?}" "${dropped:-?}"
  if [[ "$rc" != 0 || "${failed:-1}" != 0 ]]; then
    echo "make-capture: SIPp reported failures; last screen:" >&2; tail -45 "$WORK/uac.log" >&2; return 1
  fi
  [[ "${dropped:-0}" == 0 ]] || echo "make-capture: WARNING: tcpdump dropped $dropped packets" >&2
  [[ -s "$tmp" ]] || { echo "make-capture: empty recording" >&2; return 1; }
  mv "$tmp" "$file"
}

SECONDS=0
if [[ -s "$OUT" && "$FORCE" != 1 ]]; then
  echo "make-capture: $OUT exists (FORCE=1 to re-record)"
else
  record "$CALLS" "$WORK/$(basename "$OUT")"
  mv "$WORK/$(basename "$OUT")" "$OUT"
fi

if [[ "${NO_X5:-0}" == 1 ]]; then exit 0; fi
if [[ -s "$X5" && "$FORCE" != 1 ]]; then
  echo "make-capture: $X5 exists (FORCE=1 to re-record)"
else
  command -v mergecap >/dev/null || { echo "make-capture: mergecap not found (apt-get install wireshark-common)" >&2; exit 1; }
  parts=("$OUT")
  for i in 2 3 4 5; do
    record "$CALLS" "$WORK/x5-part$i.pcap"
    parts+=("$WORK/x5-part$i.pcap")
  done
  # -a: concatenate in order (the parts were recorded one after the other, so time only goes
  # forward); -F pcap keeps the classic pcap format (mergecap writes pcapng by default).
  mergecap -a -F pcap -w "$WORK/x5.pcap" "${parts[@]}"
  # Check the whole file's Call-IDs with the bare walk (tshark takes minutes on this file, see README).
  check=$(node "$ROOT/bench/bare-walk.mjs" "$WORK/x5.pcap")
  distinct=$(node -p 'JSON.parse(process.argv[1]).distinctCallIds' "$check")
  echo "make-capture: $(basename "$X5"): $check"
  if [[ "$distinct" != $((CALLS * 5)) ]]; then
    echo "make-capture: expected $((CALLS * 5)) distinct Call-IDs, got $distinct" >&2; exit 1
  fi
  mv "$WORK/x5.pcap" "$X5"
fi
echo "make-capture: done in ${SECONDS} s: $(ls -l "$OUT" | awk '{print $5}') bytes $OUT, $(ls -l "$X5" | awk '{print $5}') bytes $X5"
