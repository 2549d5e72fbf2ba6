// The worker's event loop and timers: thin owners of libevent objects.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <vector>

#include "common/c_ptr.h"

struct event_base;
struct event;

namespace dp::io {

void event_base_free_fn(event_base* base) noexcept;
void event_free_fn(event* ev) noexcept;
using EventBasePtr = CPtr<event_base, event_base_free_fn>;
using EventPtr = CPtr<event, event_free_fn>;

// One per worker thread; everything created on it runs its callbacks on that thread.
class EventLoop {
 public:
  EventLoop();  // throws std::runtime_error if libevent cannot create a base
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_.get(); }
  void run();   // until stop()
  void stop();  // from any thread (libevent's pthread locking is enabled)
  // Runs fn on the loop's thread at the next iteration, after the current callback returns:
  // deferred deletion for objects whose callback may destroy their owner. Loop thread only.
  void defer(std::function<void()> fn);
  // Runs fn on the loop's thread soon; callable from any thread (e.g. a reload from main).
  void post(std::function<void()> fn);

 private:
  static void run_deferred(int fd, short what, void* self) noexcept;
  static void run_posted(int fd, short what, void* self) noexcept;
  EventBasePtr base_;
  EventPtr defer_event_;
  std::vector<std::function<void()>> deferred_;
  EventPtr post_event_;
  std::mutex posted_mutex_;  // guards posted_: the only state shared across threads
  std::vector<std::function<void()>> posted_;
};

// A one-shot timer, re-armable. Lives on one loop; the callback runs on that loop's thread.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm(std::chrono::microseconds after);
  void cancel();
  bool armed() const;

 private:
  static void trampoline(int fd, short what, void* self) noexcept;
  std::function<void()> on_fire_;
  EventPtr event_;
};

}  // namespace dp::io
