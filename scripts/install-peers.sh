#!/usr/bin/env bash
# Installs the Debian packages the tests and benchmarks talk to: libpcap (live capture through
# the optional `cap` module), tshark and sngrep (second opinions on captures), SIPp, baresip,
# sipsak, sipvicious (real SIP clients), Kamailio (benchmark peer), tcpdump, GNU time.
# Quick when everything is already there; needs root (or sudo) otherwise.
set -euo pipefail
need=()
have() { command -v "$1" >/dev/null 2>&1; }
dpkg -s libpcap-dev >/dev/null 2>&1 || need+=(libpcap-dev)
have tshark || need+=(tshark)
have sipp || need+=(sip-tester)
have sngrep || need+=(sngrep)
have baresip || need+=(baresip)
have sipsak || need+=(sipsak)
have svwar || have sipvicious_svwar || need+=(sipvicious)
have kamailio || need+=(kamailio)
have tcpdump || need+=(tcpdump)
[ -x /usr/bin/time ] || need+=(time)
have tmux || need+=(tmux)
have sipcrack || need+=(sipcrack)
[ -x /usr/bin/chromium ] || need+=(chromium)
have xmllint || need+=(libxml2-utils)
have nft || need+=(nftables)
if [ ${#need[@]} -eq 0 ]; then
  echo "install-peers: all peers present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-peers: installing ${need[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
