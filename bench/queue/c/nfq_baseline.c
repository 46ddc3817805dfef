/*
 * The C baseline of `npm run bench:queue`: what the seed's t.c does, against Debian's
 * libnetfilter_queue. One recv(2) and one nfq_set_verdict2() (one sendto(2)) per packet, NF_ACCEPT,
 * copy mode packet with range 0xffff, a 4096-byte receive buffer, the kernel's default socket buffers.
 *
 * Differences from t.c, all so that the program can be measured rather than changed in cost:
 *   - no printf per packet (the benchmark measures verdicts, not terminal output);
 *   - the mark passed to nfq_set_verdict2 is the packet's own mark (t.c passes a global 0 or 0x8000;
 *     either way one NFQA_MARK attribute is sent, so the cost is the same, and keeping the mark means
 *     the baseline does the same thing to packets as `nfqguard queue` without --set-mark);
 *   - ENOBUFS from recv (the kernel dropped messages because the socket buffer was full) is counted
 *     and the loop reads on: t.c's loop would end there, which under a flood happens in milliseconds;
 *   - SIGINT/SIGTERM end the loop, the queue is destroyed (unbound) and counts go to stderr.
 *
 * Usage: nfq_baseline QUEUE_NUM
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

static volatile sig_atomic_t stop_requested;
static unsigned long long packets, verdict_errors;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static int cb(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data) {
  (void)nfmsg;
  (void)data;
  uint32_t id = 0;
  struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
  if (ph) id = ntohl(ph->packet_id);
  uint32_t mark = nfq_get_nfmark(nfa);
  packets++;
  int rc = nfq_set_verdict2(qh, id, NF_ACCEPT, mark, 0, NULL);
  if (rc < 0) verdict_errors++;
  return rc;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s QUEUE_NUM\n", argv[0]);
    return 2;
  }
  int num = atoi(argv[1]);
  struct nfq_handle *h = nfq_open();
  if (!h) {
    perror("nfq_open");
    return 1;
  }
  /* t.c does these; on kernels since 3.8 they are no-ops, kept so the start-up matches. */
  nfq_unbind_pf(h, AF_INET);
  nfq_bind_pf(h, AF_INET);
  struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)num, &cb, NULL);
  if (!qh) {
    perror("nfq_create_queue");
    nfq_close(h);
    return 1;
  }
  if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
    perror("nfq_set_mode");
    nfq_destroy_queue(qh);
    nfq_close(h);
    return 1;
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: a signal interrupts the blocking recv */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  int fd = nfq_fd(h);
  char buf[4096] __attribute__((aligned));
  unsigned long long enobufs = 0;
  int rv;
  while (!stop_requested) {
    rv = recv(fd, buf, sizeof buf, 0);
    if (rv >= 0) {
      nfq_handle_packet(h, buf, rv);
      continue;
    }
    if (errno == ENOBUFS) {
      enobufs++;
      continue;
    }
    if (errno == EINTR) continue;
    perror("recv");
    break;
  }
  nfq_destroy_queue(qh);
  nfq_close(h);
  fprintf(stderr, "{\"packets\":%llu,\"enobufs\":%llu,\"verdictErrors\":%llu}\n", packets, enobufs, verdict_errors);
  return 0;
}
