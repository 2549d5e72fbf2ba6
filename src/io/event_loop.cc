#include "io/event_loop.h"

#include <event2/event.h>
#include <event2/thread.h>

#include <mutex>
#include <stdexcept>

namespace dp::io {

void event_base_free_fn(event_base* base) noexcept { event_base_free(base); }
void event_free_fn(event* ev) noexcept { event_free(ev); }

namespace {
std::once_flag g_threads_once;
}

EventLoop::EventLoop() {
  // stop() is called from the signal thread: libevent must lock its bases.
  std::call_once(g_threads_once, [] { evthread_use_pthreads(); });
  base_.reset(event_base_new());
  if (!base_) throw std::runtime_error("libevent: cannot create an event base");
  // Every event at the middle priority (libevent's default: half the count), kIdlePriority
  // below it. Before any event exists.
  if (event_base_priority_init(base_.get(), kPriorities) != 0) {
    throw std::runtime_error("libevent: cannot set the event priorities");
  }
  defer_event_.reset(event_new(base_.get(), -1, 0, &EventLoop::run_deferred, this));
  if (!defer_event_) throw std::runtime_error("libevent: cannot create an event");
  post_event_.reset(event_new(base_.get(), -1, 0, &EventLoop::run_posted, this));
  if (!post_event_) throw std::runtime_error("libevent: cannot create an event");
  delete_event_.reset(event_new(base_.get(), -1, 0, &EventLoop::run_deletes, this));
  if (!delete_event_) throw std::runtime_error("libevent: cannot create an event");
}

EventLoop::~EventLoop() { doomed_free(); }

// Until stop(), even while nothing is registered (a post() may still come).
void EventLoop::run() { event_base_loop(base_.get(), EVLOOP_NO_EXIT_ON_EMPTY); }

void EventLoop::stop() { event_base_loopexit(base_.get(), nullptr); }

// One non-blocking turn: libevent runs events made active during it in the same turn, so
// work deferred by deferred work runs too.
void EventLoop::run_pending() { event_base_loop(base_.get(), EVLOOP_NONBLOCK); }

void EventLoop::defer(std::function<void()> fn) {
  deferred_.push_back(std::move(fn));
  event_active(defer_event_.get(), EV_TIMEOUT, 0);
}

void EventLoop::run_deferred(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* loop = static_cast<EventLoop*>(self);
  std::vector<std::function<void()>> batch;
  batch.swap(loop->deferred_);
  for (auto& fn : batch) fn();
}

void EventLoop::doomed_add(DoomedPtr object) {
  doomed_.push_back(std::move(object));
  event_active(delete_event_.get(), EV_TIMEOUT, 0);
}

// A destructor may hand further objects over: they are freed in the same go.
void EventLoop::doomed_free() {
  while (!doomed_.empty()) {
    std::vector<DoomedPtr> batch;
    batch.swap(doomed_);
    for (DoomedPtr& object : batch) object.reset();  // in the order they were handed over
  }
}

void EventLoop::run_deletes(int /*fd*/, short /*what*/, void* self) noexcept {
  static_cast<EventLoop*>(self)->doomed_free();
}

void EventLoop::post(std::function<void()> fn) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(fn));
  }
  event_active(post_event_.get(), EV_TIMEOUT, 0);  // thread-safe: evthread_use_pthreads()
}

void EventLoop::run_posted(int /*fd*/, short /*what*/, void* self) noexcept {
  auto* loop = static_cast<EventLoop*>(self);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard lock(loop->posted_mutex_);
    batch.swap(loop->posted_);
  }
  for (auto& fn : batch) fn();
}

Timer::Timer(EventLoop& loop, std::function<void()> on_fire)
    : on_fire_(std::move(on_fire)),
      event_(event_new(loop.base(), -1, 0, &Timer::trampoline, this)) {
  if (!event_) throw std::runtime_error("libevent: cannot create a timer");
}

void Timer::trampoline(int /*fd*/, short /*what*/, void* self) noexcept {
  static_cast<Timer*>(self)->on_fire_();
}

void Timer::arm(std::chrono::microseconds after) {
  if (after.count() < 0) after = std::chrono::microseconds(0);
  const timeval tv{static_cast<time_t>(after.count() / 1'000'000),
                   static_cast<suseconds_t>(after.count() % 1'000'000)};
  event_add(event_.get(), &tv);
}

void Timer::arm_now() { event_active(event_.get(), EV_TIMEOUT, 0); }

void Timer::cancel() { event_del(event_.get()); }

bool Timer::armed() const { return event_pending(event_.get(), EV_TIMEOUT, nullptr) != 0; }

}  // namespace dp::io
