// RAII for C library objects: one template, one deleter per free function.
#pragma once

#include <memory>

namespace dp {

template <auto Fn>
struct CDeleter {
  template <class T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

// Owns a T* and releases it with Fn. Borrowed pointers are never wrapped.
template <class T, auto Fn>
using CPtr = std::unique_ptr<T, CDeleter<Fn>>;

}  // namespace dp
