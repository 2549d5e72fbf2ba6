#include "proxy/route_tags.h"

#include <algorithm>
#include <stdexcept>

namespace dp::proxy {

std::uint16_t RouteTags::tag_for(const std::string& identity) {
  if (auto found = tags_.find(identity); found != tags_.end()) {
    found->second.used = true;
    return found->second.tag;
  }
  if (in_use_.size() >= kMaxTags) throw std::length_error("more than 65,535 forward zones");
  while (next_ == 0 || in_use_.contains(next_)) ++next_;  // 0 is the default upstreams'
  const std::uint16_t tag = next_++;
  tags_.emplace(identity, Held{tag, true});
  in_use_.insert(tag);
  return tag;
}

void RouteTags::forget_unused() {
  std::erase_if(tags_, [this](const auto& held) {
    if (held.second.used) return false;
    in_use_.erase(held.second.tag);
    return true;
  });
  for (auto& held : tags_) held.second.used = false;
}

}  // namespace dp::proxy
