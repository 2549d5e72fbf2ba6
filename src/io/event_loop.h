// The worker's event loop and timers: thin owners of libevent objects.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
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
//
// The ownership contract (Envoy's deferred delete): a call an owner makes never calls back
// into that owner; what fails inside is returned, or reported from the loop once the current
// callback has returned. An object whose callback may end its own life (a connection that
// fails while it reports an answer) is not destroyed there but handed to defer_delete().
class EventLoop {
 public:
  EventLoop();  // throws std::runtime_error if libevent cannot create a base
  // Frees what defer_delete() still holds (before the base its objects' events live on);
  // deferred and posted functions that never ran are dropped.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  event_base* base() const { return base_.get(); }
  // An event at this priority runs only in a loop turn whose poll found nothing else to do:
  // the moment before the loop would sleep. Every other event has the default priority.
  static constexpr int kPriorities = 3;
  static constexpr int kIdlePriority = 2;
  void run();   // until stop()
  void stop();  // from any thread (libevent's pthread locking is enabled)
  // Runs what is due now, without waiting: deferred work and deletions, posted functions,
  // events made active and expired timers (and, for one turn, sockets already ready), then
  // returns. What that work defers in turn runs too. For tests, which drive the loop
  // themselves, and never from inside one of the loop's callbacks.
  void run_pending();
  // Runs fn on the loop's thread once the current callback has returned. Loop thread only.
  void defer(std::function<void()> fn);
  // Takes `object` and destroys it once the current callback has returned: for an object
  // whose own callback (further up the stack) must not find it freed. Whatever is still held
  // when the loop is destroyed is freed then. Loop thread only.
  template <class T>
  void defer_delete(std::unique_ptr<T> object) {
    if (object) doomed_add(DoomedPtr(object.release(), [](void* p) { delete static_cast<T*>(p); }));
  }
  // Objects handed to defer_delete() and not freed yet.
  std::size_t deletes_pending() const { return doomed_.size(); }
  // Runs fn on the loop's thread soon; callable from any thread (e.g. a reload from main).
  void post(std::function<void()> fn);

 private:
  using DoomedPtr = std::unique_ptr<void, void (*)(void*)>;
  void doomed_add(DoomedPtr object);
  void doomed_free();
  static void run_deferred(int fd, short what, void* self) noexcept;
  static void run_posted(int fd, short what, void* self) noexcept;
  static void run_deletes(int fd, short what, void* self) noexcept;
  EventBasePtr base_;
  EventPtr defer_event_;
  std::vector<std::function<void()>> deferred_;
  EventPtr delete_event_;
  std::vector<DoomedPtr> doomed_;  // handed to defer_delete(), in order
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
  // Fires once the current callback has returned (in this turn of the loop, before it next
  // waits): how a callee reports to its caller without calling back into it. cancel() and
  // the destructor take it back.
  void arm_now();
  void cancel();
  bool armed() const;  // armed with a delay, or by arm_now() and not fired yet

 private:
  static void trampoline(int fd, short what, void* self) noexcept;
  std::function<void()> on_fire_;
  EventPtr event_;
};

}  // namespace dp::io
