#!/usr/bin/env bash
# Records real SIPp runs with tcpdump into captures/sipp/*.pcap, plus captures/sipp/sipp-runs.json
# (what SIPp itself said about each run: successful/failed calls, retransmissions, exit codes, and
# the exact command lines). test/scenarios.test.ts checks sipscope's dialog model against them.
#
#   bash scripts/record-sipp-scenarios.sh            # all scenarios
#   bash scripts/record-sipp-scenarios.sh busy loss  # only these (the others' entries are kept)
#   KEEP=1 bash scripts/record-sipp-scenarios.sh     # keep the work directory (SIPp logs)
#
# Everything runs inside a network namespace made for the run (its own 127.0.0.1, nothing on the
# host's interfaces, no port clashes with anything else on the machine). Packet loss for the
# retransmission scenario is made there too. Needs root, SIPp (sip-tester), tcpdump, iproute2,
# jq, and nftables for the loss scenario (this kernel has no netem: CONFIG_NET_SCH_NETEM unset).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCEN="$ROOT/test/helpers/sipp-scenarios"
OUT="$ROOT/captures/sipp"
RUNS="$OUT/sipp-runs.json"
UAS_PORT=5060
UAC_PORT=5070
TCP_UAS_PORT=5080   # a non-5060 port (the test gives tshark -d tcp.port==5080,sip)
LOSS_PERCENT=20
LOSS_ATTEMPTS=6

die() { echo "record-sipp-scenarios: $*" >&2; exit 1; }
for c in sipp tcpdump ip jq timeout; do command -v "$c" >/dev/null 2>&1 || die "$c is missing (bash scripts/install-peers.sh; apt-get install jq)"; done
[ "$(id -u)" -eq 0 ] || die "needs root (network namespace, tcpdump)"
SIPP_VERSION=$( (sipp -v 2>&1 || true) | grep -o 'SIPp v[^ ]*' | head -1 | sed 's/[.,]$//')
TCPDUMP_VERSION=$( (tcpdump --version 2>&1 || true) | sed -n 1p)

mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/sipscope-sipp-rec.XXXXXX)
NS="sipscope-rec-$$"
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "record-sipp-scenarios: work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

# The injection file for the digest scenarios: SIPp only parses the whole [authentication ...]
# keyword from a field (PEERS.md). field0 user, field1 the keyword, field2 the password (for the
# registrar's verifyauth). INVITE calls share one password; registrations each have their own.
cat >"$WORK/invite-users.csv" <<'CSV'
SEQUENTIAL
user1;[authentication username=user1 password=sipp-secret];sipp-secret
user2;[authentication username=user2 password=sipp-secret];sipp-secret
user3;[authentication username=user3 password=sipp-secret];sipp-secret
user4;[authentication username=user4 password=sipp-secret];sipp-secret
user5;[authentication username=user5 password=sipp-secret];sipp-secret
CSV
cat >"$WORK/register-users.csv" <<'CSV'
SEQUENTIAL
user1;[authentication username=user1 password=pw1];pw1
user2;[authentication username=user2 password=pw2];pw2
user3;[authentication username=user3 password=pw3];pw3
user4;[authentication username=user4 password=pw4];pw4
user5;[authentication username=user5 password=pw5];pw5
CSV

# Column of the last row of a SIPp -stf statistics file, by header name.
stat_col() { awk -F';' -v name="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==name) c=i} END{print (c? $c : "null")}' "$1"; }

# Sum of the Retrans columns of send steps (retransmissions SIPp sent on its timers) and of recv
# steps (retransmissions it received), from the last row of a -trace_counts file.
counts_retrans() {
  awk -F';' -v want="$2" '
    NR==1 { for (i=1;i<=NF;i++) { h[i]=$i; if ($i ~ /^[0-9]+_.*_Sent$/) { split($i,a,"_"); kind[a[1]]="send" } else if ($i ~ /^[0-9]+_.*_Recv$/) { split($i,a,"_"); kind[a[1]]="recv" } } next }
    { for (i=1;i<=NF;i++) v[i]=$i }
    END { s=0; for (i in h) if (h[i] ~ /_Retrans$/) { split(h[i],a,"_"); if (kind[a[1]]==want) s+=v[i] } print s }' "$1"
}

# Nonzero Failed...(C) columns of a -stf file, as a JSON object (reason -> count).
stat_failures() {
  awk -F';' 'NR==1{for(i=1;i<=NF;i++) h[i]=$i; next} {for(i=1;i<=NF;i++) v[i]=$i}
    END{printf "{"; n=0; for(i in h) if (h[i] ~ /^Failed.*\(C\)$/ && h[i] != "FailedCall(C)" && v[i]+0 > 0) { k=h[i]; sub(/^Failed/,"",k); sub(/\(C\)$/,"",k); printf "%s\"%s\":%d", (n++?",":""), k, v[i] } print "}"}' "$1"
}

# One SIPp side's account of a run, as JSON: calls from -stf, retransmissions from -trace_counts,
# messages from -trace_shortmsg (one line per message sent or received, retransmissions included).
side_json() {
  local d=$1 rc=$2 counts
  counts=$(ls "$d"/*_counts.csv | head -1)
  jq -n --argjson rc "$rc" --argjson failures "$(stat_failures "$d/stat.csv")" \
    --argjson ok "$(stat_col "$d/stat.csv" 'SuccessfulCall(C)')" \
    --argjson failed "$(stat_col "$d/stat.csv" 'FailedCall(C)')" \
    --argjson retransSent "$(counts_retrans "$counts" send)" \
    --argjson retransReceived "$(counts_retrans "$counts" recv)" \
    --argjson sentLines "$(awk -F'\t' '$4=="S"' "$d/short.log" | wc -l)" \
    --argjson receivedLines "$(awk -F'\t' '$4=="R"' "$d/short.log" | wc -l)" \
    '{exitCode: $rc, successfulCalls: $ok, failedCalls: $failed, failures: $failures, retransSent: $retransSent, retransReceived: $retransReceived, shortmsgSent: $sentLines, shortmsgReceived: $receivedLines}'
}

# record NAME TRANSPORT UAS_PORT CALLS "UAS ARGS" "UAC ARGS" [LOSS_PERCENT]
# Runs one UAS and one UAC (both -m CALLS) inside the namespace, with tcpdump on its lo; leaves
# the capture in $WORK/NAME/NAME.pcap and the run's JSON entry in $WORK/NAME/run.json.
record() {
  local name=$1 transport=$2 uas_port=$3 calls=$4 uas_args=$5 uac_args=$6 loss=${7:-0}
  local dir="$WORK/$name" tflag=u1
  [ "$transport" = TCP ] && tflag=t1
  rm -rf "$dir"; mkdir -p "$dir/uas" "$dir/uac"
  cp "$WORK"/*.csv "$dir/uas/"; cp "$WORK"/*.csv "$dir/uac/"

  ip netns exec "$NS" nft delete table inet sipscope_loss 2>/dev/null || true
  if [ "$loss" != 0 ]; then
    command -v nft >/dev/null 2>&1 || die "nft is missing (apt-get install nftables)"
    # Drops happen on the input hook, after tcpdump's tap on lo: the capture holds every message
    # a SIPp sent, including the ones its peer never got (a sniffer next to the sender).
    ip netns exec "$NS" nft -f - <<NFT
table inet sipscope_loss {
  chain input {
    type filter hook input priority 0; policy accept;
    udp dport { $uas_port, $UAC_PORT } numgen random mod 100 < $loss counter drop
  }
}
NFT
  fi

  local bpf="port $uas_port or port $UAC_PORT"
  ip netns exec "$NS" tcpdump -i lo -s 0 -U --immediate-mode -n -w "$dir/$name.pcap" "$bpf" 2>"$dir/tcpdump.err" &
  local tpid=$!; PIDS+=("$tpid")
  for _ in $(seq 200); do grep -q 'listening on' "$dir/tcpdump.err" 2>/dev/null && break; sleep 0.05; done
  grep -q 'listening on' "$dir/tcpdump.err" || die "$name: tcpdump did not start: $(cat "$dir/tcpdump.err")"

  local common="-i 127.0.0.1 -t $tflag -m $calls -nostdin -timeout 60s -trace_stat -stf stat.csv -fd 1 -trace_counts -trace_err -error_file err.log -trace_msg -message_file msg.log -trace_shortmsg -shortmessage_file short.log -trace_screen -screen_file screen.log"
  local uas_cmd="sipp $uas_args -p $uas_port $common"
  local uac_cmd="sipp 127.0.0.1:$uas_port $uac_args -p $UAC_PORT $common"
  # As recorded in sipp-runs.json: scenario paths relative to the repository.
  local uas_shown=${uas_cmd//$ROOT\//} uac_shown=${uac_cmd//$ROOT\//}

  (cd "$dir/uas" && exec ip netns exec "$NS" timeout 90 $uas_cmd >out.log 2>&1) &
  local upid=$!; PIDS+=("$upid")
  for _ in $(seq 200); do
    ip netns exec "$NS" ss -lnut | grep -q "127.0.0.1:$uas_port " && break
    sleep 0.05
  done
  local uac_rc=0 uas_rc=0
  (cd "$dir/uac" && exec ip netns exec "$NS" timeout 90 $uac_cmd >out.log 2>&1) || uac_rc=$?
  wait "$upid" || uas_rc=$?
  sleep 1
  kill -INT "$tpid" 2>/dev/null || true
  wait "$tpid" 2>/dev/null || true
  # tcpdump's own account: everything the filter took must be in the file. On lo the kernel hands
  # libpcap each packet twice (going out, coming in) and libpcap keeps the incoming copy only.
  local got took
  got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$dir/tcpdump.err")
  took=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$dir/tcpdump.err")
  [ -n "$got" ] && [ "$((got * 2))" = "$took" ] || die "$name: tcpdump captured $got of $took packets ($(tr '\n' ' ' <"$dir/tcpdump.err"))"

  local dropped=0
  if [ "$loss" != 0 ]; then
    dropped=$(ip netns exec "$NS" nft list table inet sipscope_loss | grep -o 'packets [0-9]*' | awk '{print $2}')
    ip netns exec "$NS" nft delete table inet sipscope_loss
  fi

  local uac uas
  uac=$(side_json "$dir/uac" "$uac_rc")
  uas=$(side_json "$dir/uas" "$uas_rc")
  jq -n --arg name "$name" --arg file "$name.pcap" --arg transport "$transport" --argjson calls "$calls" \
    --argjson uasPort "$uas_port" --argjson uacPort "$UAC_PORT" \
    --arg uasCmd "$uas_shown" --arg uacCmd "$uac_shown" --argjson loss "$loss" --argjson dropped "$dropped" \
    --argjson uac "$uac" --argjson uas "$uas" \
    '{name: $name, file: $file, transport: $transport, calls: $calls, uasPort: $uasPort, uacPort: $uacPort,
      lossPercent: $loss, droppedByNft: $dropped, uasCommand: $uasCmd, uacCommand: $uacCmd, uac: $uac, uas: $uas}' >"$dir/run.json"
  PIDS=()   # all reaped: never signal a recycled pid from cleanup
  echo "record-sipp-scenarios: $name: $(jq -c '{uac: .uac | {exitCode, successfulCalls, failedCalls, retransSent}, uas: .uas | {exitCode, successfulCalls, failedCalls, retransSent}, droppedByNft}' "$dir/run.json")"
}

# publish NAME: the capture into captures/sipp/, the run into sipp-runs.json.
publish() {
  local name=$1
  cp "$WORK/$name/$name.pcap" "$OUT/$name.pcap"
  local runs='{}'
  [ -s "$RUNS" ] && runs=$(cat "$RUNS")
  jq --argjson run "$(cat "$WORK/$name/run.json")" --arg sipp "$SIPP_VERSION" --arg tcpdump "$TCPDUMP_VERSION" \
    '.sipp = $sipp | .tcpdump = $tcpdump | .runs[$run.name] = $run' <<<"$runs" >"$RUNS.tmp"
  mv "$RUNS.tmp" "$RUNS"
}

wanted() { [ ${#ONLY[@]} -eq 0 ] && return 0; local x; for x in "${ONLY[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
ONLY=("$@")

# 1. The built-in scenarios: 5 answered calls, the caller hangs up after 2 s (-d 2000).
if wanted basic; then
  record basic UDP $UAS_PORT 5 "-sn uas" "-sn uac -d 2000 -r 5"
  publish basic
fi

# 2. A busy callee: 100, 180, 486 <- ACK.
if wanted busy; then
  record busy UDP $UAS_PORT 5 "-sf $SCEN/busy-uas.xml" "-sf $SCEN/busy-uac.xml -r 5"
  publish busy
fi

# 3. The caller cancels while it rings: 180; CANCEL, 200, 487, ACK.
if wanted cancel; then
  record cancel UDP $UAS_PORT 5 "-sf $SCEN/cancel-uas.xml" "-sf $SCEN/cancel-uac.xml -r 5"
  publish cancel
fi

# 4a. INVITE challenged with 407, then sent with Proxy-Authorization and answered. (SIPp's
#     verifyauth only reads Authorization, so the UAS cannot check these credentials.) SIPp's
#     digest uri defaults to sip:remote_ip:remote_port; -auth_uri makes it the Request-URI, as
#     RFC 3261 §22.4 wants (else sipscope rightly reports a uri mismatch).
if wanted auth-invite; then
  record auth-invite UDP $UAS_PORT 5 "-sf $SCEN/auth-invite-uas.xml" "-sf $SCEN/auth-invite-uac.xml -inf invite-users.csv -auth_uri service@127.0.0.1:$UAS_PORT -r 5"
  publish auth-invite
fi

# 4b. REGISTER challenged with 401, then sent with Authorization, checked by the UAS's verifyauth
#     and accepted (200, expires 3600; 403 otherwise, which fails the UAC's call). One at a time
#     (-l 1) so that both sides read the same -inf line for a registration.
if wanted auth-register; then
  record auth-register UDP $UAS_PORT 5 "-sf $SCEN/auth-register-uas.xml -inf register-users.csv" "-sf $SCEN/auth-register-uac.xml -inf register-users.csv -r 5 -l 1"
  publish auth-register
fi

# 5. Hold in the middle of a call: re-INVITE a=sendonly, then BYE.
if wanted reinvite; then
  record reinvite UDP $UAS_PORT 5 "-sf $SCEN/reinvite-uas.xml" "-sf $SCEN/reinvite-uac.xml -r 5"
  publish reinvite
fi

# 6. The built-in scenarios under $LOSS_PERCENT % random loss (every UDP datagram to either SIPp,
#    both directions): SIPp retransmits on its UDP timers. Repeated until a run has every call
#    successful on both sides and at least one retransmission (the loss is random).
if wanted loss; then
  ok=0
  for attempt in $(seq "$LOSS_ATTEMPTS"); do
    record loss UDP $UAS_PORT 10 "-sn uas" "-sn uac -d 1000 -r 5" "$LOSS_PERCENT"
    if jq -e --argjson n 10 '.uac.successfulCalls == $n and .uas.successfulCalls == $n and .uac.failedCalls == 0 and .uas.failedCalls == 0 and (.uac.retransSent + .uas.retransSent) > 0' "$WORK/loss/run.json" >/dev/null; then
      ok=1; break
    fi
    echo "record-sipp-scenarios: loss: attempt $attempt had failed calls or no retransmission; again" >&2
  done
  [ "$ok" = 1 ] || die "loss: no clean run in $LOSS_ATTEMPTS attempts"
  publish loss
fi

# 7. The built-in scenarios over TCP (-t t1: one connection), on a non-5060 port.
if wanted tcp; then
  record tcp TCP $TCP_UAS_PORT 5 "-sn uas" "-sn uac -d 1000 -r 5"
  publish tcp
fi

# Reproductions of dialog-model bugs, first seen in lossy runs of the scenarios above, made
# deterministic (test/scenarios.test.ts runs their checks as todo until the model is fixed).
# R1. The caller cancels, gets the 487, ACKs, then still sends a BYE (as SIPp does when it aborts
#     a call); the callee answers 481.
if wanted repro-cancel-then-bye; then
  record repro-cancel-then-bye UDP $UAS_PORT 3 "-sf $SCEN/cancel-bye-uas.xml" "-sf $SCEN/cancel-bye-uac.xml -r 5"
  publish repro-cancel-then-bye
fi

# R2. The caller hangs up with a BYE in the early dialog (after 180), the callee answers the BYE
#     and never sends a final response to the INVITE.
if wanted repro-early-bye; then
  record repro-early-bye UDP $UAS_PORT 3 "-sf $SCEN/early-bye-uas.xml" "-sf $SCEN/early-bye-uac.xml -r 5"
  publish repro-early-bye
fi

# R3. The busy call with its 486 sent twice, and ACKed twice (the same ACK).
if wanted repro-ack-retransmission; then
  record repro-ack-retransmission UDP $UAS_PORT 3 "-sf $SCEN/busy-retrans-uas.xml" "-sf $SCEN/busy-retrans-uac.xml -r 5"
  publish repro-ack-retransmission
fi
