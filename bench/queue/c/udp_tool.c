/*
 * Traffic for `npm run bench:queue`, on 127.0.0.1 inside the benchmark's network namespace.
 *
 *   udp_tool flood PORT SECONDS MAX_PACKETS PAYLOAD_BYTES
 *       Sends UDP datagrams to 127.0.0.1:PORT with sendmmsg(2) in batches of 64 until SECONDS have
 *       passed or MAX_PACKETS were sent. Prints "go" when it starts, then one JSON line at the end.
 *   udp_tool echo PORT
 *       Answers every datagram on 127.0.0.1:PORT with the same bytes, until SIGTERM/SIGINT.
 *   udp_tool ping PORT COUNT WARMUP TIMEOUT_MS
 *       One request at a time to 127.0.0.1:PORT; prints one JSON line with the round-trip time of
 *       each of the COUNT answered requests after WARMUP unmeasured ones, in nanoseconds, and the
 *       number lost (no answer within TIMEOUT_MS); gives up after 20 losses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int connected_socket(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  struct sockaddr_in a = loopback(port);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("connect");
    exit(1);
  }
  return fd;
}

static int flood(int port, double seconds, unsigned long long max, int payload, int segs) {
  if (payload < 1 || payload > 1400) payload = 64;
  if (segs < 1 || segs > 64) segs = 1;
  int fd = connected_socket(port);
  if (segs > 1) {
    int gso = payload;
    if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso, sizeof gso) != 0) {
      perror("setsockopt(UDP_SEGMENT)");
      return 1;
    }
  }
  static char data[64 * 1400];
  memset(data, 'x', sizeof data);
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data;
    iov[i].iov_len = (size_t)payload * (size_t)segs;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long sent = 0, errors = 0;
  printf("go\n");
  fflush(stdout);
  uint64_t start = now_ns();
  uint64_t deadline = start + (uint64_t)(seconds * 1e9);
  while (!stop_requested && sent < max) {
    if (now_ns() >= deadline) break; /* a vDSO call: cheap next to a 64-datagram sendmmsg */
    unsigned int n = BATCH;
    if (max - sent < n) n = (unsigned int)(max - sent);
    if (segs > 1) n = (n + (unsigned int)segs - 1) / (unsigned int)segs;
    int rc = sendmmsg(fd, msgs, n, 0);
    if (rc > 0) sent += (unsigned long long)rc * (unsigned long long)segs;
    else if (rc < 0 && errno != EINTR) errors++;
  }
  double elapsed = (double)(now_ns() - start) / 1e9;
  printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f}\n", sent, errors, elapsed);
  close(fd);
  return 0;
}

static int echo(int port) {
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = loopback(port);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    perror("echo: bind");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  char buf[2048];
  while (!stop_requested) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) continue; /* EINTR on a signal: the loop condition decides */
    sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
  }
  return 0;
}

static int ping(int port, int count, int warmup, int timeout_ms) {
  int fd = connected_socket(port);
  uint64_t *rtt = calloc((size_t)count, sizeof *rtt);
  if (!rtt) return 1;
  int measured = 0, lost = 0;
  uint64_t seq = 0;
  char reply[64];
  while (measured < count && !stop_requested) {
    seq++;
    uint64_t t0 = now_ns();
    if (send(fd, &seq, sizeof seq, 0) < 0) {
      lost++;
      continue;
    }
    /* Wait for the answer to this request; stale answers to earlier (lost) ones are skipped. */
    int got = 0;
    while (!got) {
      uint64_t waited_ms = (now_ns() - t0) / 1000000ull;
      if (waited_ms >= (uint64_t)timeout_ms) break;
      struct pollfd p = {.fd = fd, .events = POLLIN};
      if (poll(&p, 1, timeout_ms - (int)waited_ms) <= 0) continue;
      ssize_t n = recv(fd, reply, sizeof reply, 0);
      if (n == (ssize_t)sizeof seq && memcmp(reply, &seq, sizeof seq) == 0) got = 1;
    }
    uint64_t t1 = now_ns();
    if (!got) {
      lost++;
      if (lost >= 20) break; /* the path is broken: report rather than wait COUNT timeouts */
      continue;
    }
    if (warmup > 0) {
      warmup--;
      continue;
    }
    rtt[measured++] = t1 - t0;
  }
  printf("{\"lost\":%d,\"rttNs\":[", lost);
  for (int i = 0; i < measured; i++) printf(i ? ",%llu" : "%llu", (unsigned long long)rtt[i]);
  printf("]}\n");
  free(rtt);
  return 0;
}

int main(int argc, char **argv) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if ((argc == 6 || argc == 7) && strcmp(argv[1], "flood") == 0)
    return flood(atoi(argv[2]), atof(argv[3]), strtoull(argv[4], NULL, 10), atoi(argv[5]), argc == 7 ? atoi(argv[6]) : 1);
  if (argc == 3 && strcmp(argv[1], "echo") == 0) return echo(atoi(argv[2]));
  if (argc == 6 && strcmp(argv[1], "ping") == 0) return ping(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
  fprintf(stderr,
          "usage: %s flood PORT SECONDS MAX_PACKETS PAYLOAD | echo PORT | ping PORT COUNT WARMUP TIMEOUT_MS\n",
          argv[0]);
  return 2;
}
