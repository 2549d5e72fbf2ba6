#include "proxy/route_tags.h"

#include <algorithm>
#include <stdexcept>

namespace dp::proxy {

std::uint16_t RouteTags::tag_for(const std::string& identity) {
  if (auto found = tags_.find(identity); found != tags_.end()) {
    found->second.used = true;
    return found->second.tag;
  }
  // Never handed out twice: a tag given again could find the cached answers of the route that
  // had it before.
  if (issued_ >= kMaxTags) {
    throw std::length_error(
        "65,535 forward zone routes made since start (each changed zone takes a new one): "
        "restart dotproxy to reload more");
  }
  const auto tag = static_cast<std::uint16_t>(++issued_);  // 0 is the default upstreams'
  tags_.emplace(identity, Held{tag, true});
  return tag;
}

void RouteTags::forget_unused() {
  std::erase_if(tags_, [](const auto& held) { return !held.second.used; });
  for (auto& held : tags_) held.second.used = false;
}

}  // namespace dp::proxy
