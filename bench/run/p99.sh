# Tail latency of one consumer: sh bench/run/p99.sh "CONSUMER COMMAND" [rule]
# Runs it in a fresh namespace pinned to CPU 1 ("rule": also add the steering rule to queue 17, for consumers that
# install none), then three rounds of 5000 one-at-a-time UDP round trips (bench/queue's udp_tool, built by
# bench:run into dist/bench/run/bin) and prints p50/p99/p99.9 in microseconds. Needs root.
set -e
ns=nfqg-p99-$$
ip netns add $ns
trap 'kill $E $D 2>/dev/null || true; ip netns del $ns 2>/dev/null || true' EXIT INT TERM
ip netns exec $ns ip link set lo up
[ "$2" = rule ] && printf '*mangle\n-A INPUT -p udp --dport 9001 -j NFQUEUE --queue-num 17 --queue-bypass\nCOMMIT\n' | ip netns exec $ns iptables-restore --noflush
ip netns exec $ns taskset -c 1 $1 > /tmp/p99.log 2>&1 & D=$!
sleep 1.5
ip netns exec $ns dist/bench/run/bin/udp_tool echo 9001 > /dev/null & E=$!
sleep 0.3
for i in 1 2 3; do
ip netns exec $ns taskset -c 0 dist/bench/run/bin/udp_tool ping 9001 5000 200 1000 | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const r=JSON.parse(s.trim().split('\n').pop());const a=r.rttNs.sort((x,y)=>x-y);console.log('p50',a[a.length/2|0]/1000,'p99',a[Math.floor(a.length*0.99)]/1000,'p999',a[Math.floor(a.length*0.999)]/1000)})"
done
kill $E; kill -TERM $D; wait $D 2>/dev/null || true
