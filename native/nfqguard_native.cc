// nfqguard native layer: syscalls only.
//
// This file opens, binds, configures, receives on and sends on netlink sockets, and watches them for
// readiness on the libuv loop of whichever thread (main or worker) loaded it. It never parses a netlink
// message, never throws a C++ exception and never aborts the process: every failure is returned to
// JavaScript as a negative errno (hot path) or as a JavaScript exception for argument mistakes.
//
// Why: a queue consumer that dies takes the node's traffic with it. The npm `netlink` 0.3.0 package
// aborted the whole process under a UDP flood because an error escaped its native receive callback.

#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cmath>
#include <string>
#include <vector>

namespace {

constexpr uint32_t kMaxBatch = 1024;  // upper bound on messages per recvmmsg / iovecs per sendmsg

Napi::Value Fail(Napi::Env env, const char* what) {
  Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// An integer that fits in int32_t. A looser check would let Int32Value() wrap (2**32 + 1 is fd 1).
bool IsInt(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) return false;
  double d = info[i].As<Napi::Number>().DoubleValue();
  return d >= INT32_MIN && d <= INT32_MAX && d == std::trunc(d);  // NaN fails the range test
}

// A typed array of exactly this element type: the element count is then what the code below assumes
// (a Uint8Array passed where an Int32Array is expected would be written past its end).
bool IsTyped(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type) {
  return info.Length() > i && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == type;
}

int32_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  return info[i].As<Napi::Number>().Int32Value();
}

// open(protocol, netnsPath?) -> fd >= 0, or -errno.
// With netnsPath, the socket is created inside that network namespace: the calling thread enters it
// with setns(2) just for socket(2) and returns to its own namespace before anything else runs on it.
// A socket stays in the namespace it was created in, which is what lets one process drive queues in
// many throwaway namespaces.
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0)) return Fail(env, "open(protocol, netnsPath?): protocol must be a number");
  int protocol = IntArg(info, 0);
  std::string nsPath;
  if (info.Length() > 1 && info[1].IsString()) nsPath = info[1].As<Napi::String>().Utf8Value();

  int ownNs = -1;
  if (!nsPath.empty()) {
    ownNs = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ownNs < 0) return Napi::Number::New(env, -errno);
    int target = open(nsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      int e = errno;
      close(ownNs);
      return Napi::Number::New(env, -e);
    }
    if (setns(target, CLONE_NEWNET) != 0) {
      int e = errno;
      close(target);
      close(ownNs);
      return Napi::Number::New(env, -e);
    }
    close(target);
  }

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  int sockErr = fd < 0 ? errno : 0;

  if (ownNs >= 0) {
    int back = setns(ownNs, CLONE_NEWNET);
    int e = errno;
    close(ownNs);
    if (back != 0) {
      // The thread could not return to its namespace: refuse the socket rather than leave the
      // caller with a thread in the wrong namespace without knowing it.
      if (fd >= 0) close(fd);
      return Napi::Number::New(env, -e);
    }
  }
  if (fd < 0) return Napi::Number::New(env, -sockErr);
  return Napi::Number::New(env, fd);
}

// bind(fd, groups) -> the port id the kernel assigned (> 0), or -errno.
Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || info.Length() < 2 || !info[1].IsNumber()) return Fail(env, "bind(fd, groups)");
  struct sockaddr_nl addr;
  memset(&addr, 0, sizeof(addr));
  addr.nl_family = AF_NETLINK;
  addr.nl_pid = 0;  // let the kernel choose a unique port id
  addr.nl_groups = static_cast<uint32_t>(info[1].As<Napi::Number>().Int64Value());
  int fd = IntArg(info, 0);
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) != 0) {
    return Napi::Number::New(env, -errno);
  }
  socklen_t len = sizeof(addr);
  if (getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) != 0) {
    return Napi::Number::New(env, -errno);
  }
  return Napi::Number::New(env, addr.nl_pid);
}

// setIntOption(fd, level, name, value) -> 0 or -errno.
Napi::Value SetIntOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || !IsInt(info, 1) || !IsInt(info, 2) || !IsInt(info, 3)) {
    return Fail(env, "setIntOption(fd, level, name, value)");
  }
  int value = IntArg(info, 3);
  if (setsockopt(IntArg(info, 0), IntArg(info, 1), IntArg(info, 2), &value, sizeof(value)) != 0) {
    return Napi::Number::New(env, -errno);
  }
  return Napi::Number::New(env, 0);
}

// getIntOption(fd, level, name) -> value (>= 0) or -errno.
Napi::Value GetIntOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || !IsInt(info, 1) || !IsInt(info, 2)) return Fail(env, "getIntOption(fd, level, name)");
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(IntArg(info, 0), IntArg(info, 1), IntArg(info, 2), &value, &len) != 0) {
    return Napi::Number::New(env, -errno);
  }
  return Napi::Number::New(env, value);
}

struct BatchScratch {
  std::vector<struct mmsghdr> msgs;
  std::vector<struct iovec> iovs;
  BatchScratch() : msgs(kMaxBatch), iovs(kMaxBatch) {}
};

// One scratch area per thread: worker threads each load the addon and receive concurrently.
thread_local BatchScratch scratch;

// recvBatch(fd, buf, slotSize, maxMsgs, meta) -> number of datagrams received (0 when none waits), or -errno.
// Datagram i lands at buf[i*slotSize]; meta[2i] is its length, meta[2i+1] its msg_flags (MSG_TRUNC
// tells that the slot was too small). Non-blocking: it never waits.
Napi::Value RecvBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || !IsTyped(info, 1, napi_uint8_array) || !IsInt(info, 2) || !IsInt(info, 3) ||
      !IsTyped(info, 4, napi_int32_array)) {
    return Fail(env, "recvBatch(fd, buf: Uint8Array, slotSize, maxMsgs, meta: Int32Array)");
  }
  auto buf = info[1].As<Napi::TypedArrayOf<uint8_t>>();
  auto meta = info[4].As<Napi::TypedArrayOf<int32_t>>();
  int32_t slot = IntArg(info, 2);
  int32_t max = IntArg(info, 3);
  if (slot <= 0 || max <= 0) return Fail(env, "recvBatch: slotSize and maxMsgs must be positive");
  if (static_cast<uint32_t>(max) > kMaxBatch) max = kMaxBatch;
  size_t fit = buf.ElementLength() / static_cast<size_t>(slot);
  if (fit < static_cast<size_t>(max)) max = static_cast<int32_t>(fit);
  if (meta.ElementLength() < static_cast<size_t>(max) * 2) max = static_cast<int32_t>(meta.ElementLength() / 2);
  if (max == 0) return Fail(env, "recvBatch: buffers too small for one message");

  uint8_t* base = buf.Data();
  for (int32_t i = 0; i < max; i++) {
    scratch.iovs[i].iov_base = base + static_cast<size_t>(i) * slot;
    scratch.iovs[i].iov_len = static_cast<size_t>(slot);
    memset(&scratch.msgs[i], 0, sizeof(struct mmsghdr));
    scratch.msgs[i].msg_hdr.msg_iov = &scratch.iovs[i];
    scratch.msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n;
  do {
    n = recvmmsg(IntArg(info, 0), scratch.msgs.data(), static_cast<unsigned int>(max), MSG_DONTWAIT, nullptr);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
    return Napi::Number::New(env, -errno);
  }
  int32_t* m = meta.Data();
  for (int i = 0; i < n; i++) {
    m[2 * i] = static_cast<int32_t>(scratch.msgs[i].msg_len);
    m[2 * i + 1] = scratch.msgs[i].msg_hdr.msg_flags;
  }
  return Napi::Number::New(env, n);
}

ssize_t SendIov(int fd, struct iovec* iov, size_t count) {
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    n = sendmsg(fd, &msg, 0);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

// send(fd, buf, offset, length) -> bytes sent or -errno. The buffer may hold many netlink messages:
// the kernel processes each message of one datagram in turn.
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || !IsTyped(info, 1, napi_uint8_array) || !IsInt(info, 2) || !IsInt(info, 3)) {
    return Fail(env, "send(fd, buf: Uint8Array, offset, length)");
  }
  auto buf = info[1].As<Napi::TypedArrayOf<uint8_t>>();
  int32_t off = IntArg(info, 2);
  int32_t len = IntArg(info, 3);
  if (off < 0 || len < 0 || static_cast<size_t>(off) + static_cast<size_t>(len) > buf.ElementLength()) {
    return Fail(env, "send: offset/length outside the buffer");
  }
  struct iovec iov;
  iov.iov_base = buf.Data() + off;
  iov.iov_len = static_cast<size_t>(len);
  return Napi::Number::New(env, static_cast<double>(SendIov(IntArg(info, 0), &iov, 1)));
}

// sendv(fd, bufs: Uint8Array[]) -> bytes sent or -errno: one sendmsg with one iovec per buffer
// (e.g. a verdict header and a replacement payload without copying them together).
Napi::Value SendV(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0) || info.Length() < 2 || !info[1].IsArray()) return Fail(env, "sendv(fd, bufs: Uint8Array[])");
  auto arr = info[1].As<Napi::Array>();
  uint32_t count = arr.Length();
  if (count == 0 || count > kMaxBatch) return Fail(env, "sendv: between 1 and 1024 buffers");
  for (uint32_t i = 0; i < count; i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      return Fail(env, "sendv: every element must be a Uint8Array");
    }
    auto b = v.As<Napi::TypedArrayOf<uint8_t>>();
    scratch.iovs[i].iov_base = b.Data();
    scratch.iovs[i].iov_len = b.ElementLength();
  }
  return Napi::Number::New(env, static_cast<double>(SendIov(IntArg(info, 0), scratch.iovs.data(), count)));
}

// close(fd) -> 0 or -errno.
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!IsInt(info, 0)) return Fail(env, "close(fd)");
  if (close(IntArg(info, 0)) != 0) return Napi::Number::New(env, -errno);
  return Napi::Number::New(env, 0);
}

// Watcher: calls back on the loop of the thread that made it whenever the fd is readable. Level
// triggered, so a consumer that stops draining early (to let timers and signals run) is called again.
class Watcher : public Napi::ObjectWrap<Watcher> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Watcher",
                       {InstanceMethod("start", &Watcher::Start), InstanceMethod("stop", &Watcher::Stop),
                        InstanceMethod("ref", &Watcher::DoRef), InstanceMethod("unref", &Watcher::DoUnref)});
  }

  // new Watcher(fd, callback(status))
  explicit Watcher(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Watcher>(info) {
    Napi::Env env = info.Env();
    if (!IsInt(info, 0) || info.Length() < 2 || !info[1].IsFunction()) {
      Napi::TypeError::New(env, "new Watcher(fd, callback)").ThrowAsJavaScriptException();
      return;
    }
    fd_ = IntArg(info, 0);
    callback_ = Napi::Persistent(info[1].As<Napi::Function>());
    context_ = new Napi::AsyncContext(env, "nfqguard.Watcher");
    handle_ = new uv_poll_t;
    handle_->data = this;
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    int rc = uv_poll_init(loop, handle_, fd_);
    if (rc != 0) {
      delete handle_;
      handle_ = nullptr;
      Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(rc)).ThrowAsJavaScriptException();
    }
  }

  ~Watcher() override {
    delete context_;
    // The uv handle is closed in Stop(); if the object dies first, close it now. The close callback
    // frees the handle, never touching this object.
    if (handle_ != nullptr) {
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnClose);
      handle_ = nullptr;
    }
  }

 private:
  static void OnClose(uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); }

  static void OnReadable(uv_poll_t* h, int status, int /*events*/) {
    auto* self = static_cast<Watcher*>(h->data);
    if (self == nullptr) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    napi_value argv[1] = {Napi::Number::New(env, status)};
    napi_value result;
    napi_status st = napi_make_callback(env, *self->context_, self->Value(), self->callback_.Value(), 1, argv, &result);
    if (st == napi_pending_exception) {
      // Hand the JavaScript error to the process's uncaughtException machinery instead of letting a
      // C++ frame see it. The consumer's own callback catches everything, so this is a last resort.
      napi_value err;
      if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
    }
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ == nullptr) return Napi::Number::New(env, -EBADF);
    int rc = uv_poll_start(handle_, UV_READABLE, OnReadable);
    if (rc == 0 && !active_) {
      active_ = true;
      Ref();  // keep this object alive while the loop may call it
    }
    return Napi::Number::New(env, rc);
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (handle_ != nullptr) {
      uv_poll_stop(handle_);
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), OnClose);
      handle_ = nullptr;
    }
    if (active_) {
      active_ = false;
      Unref();
    }
    return env.Undefined();
  }

  Napi::Value DoRef(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  Napi::Value DoUnref(const Napi::CallbackInfo& info) {
    if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(handle_));
    return info.Env().Undefined();
  }

  int fd_ = -1;
  bool active_ = false;
  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext* context_ = nullptr;
};

class NativeAddon : public Napi::Addon<NativeAddon> {
 public:
  NativeAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports, {
                             InstanceValue("open", Napi::Function::New(env, Open)),
                             InstanceValue("bind", Napi::Function::New(env, Bind)),
                             InstanceValue("setIntOption", Napi::Function::New(env, SetIntOption)),
                             InstanceValue("getIntOption", Napi::Function::New(env, GetIntOption)),
                             InstanceValue("recvBatch", Napi::Function::New(env, RecvBatch)),
                             InstanceValue("send", Napi::Function::New(env, Send)),
                             InstanceValue("sendv", Napi::Function::New(env, SendV)),
                             InstanceValue("close", Napi::Function::New(env, Close)),
                             InstanceValue("Watcher", Watcher::Define(env)),
                             InstanceValue("maxBatch", Napi::Number::New(env, kMaxBatch)),
                         });
  }
};

}  // namespace

NODE_API_ADDON(NativeAddon)
