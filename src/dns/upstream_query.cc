#include "dns/upstream_query.h"

#include "dns/wire.h"

namespace dp::dns {
namespace {

constexpr std::size_t kPaddingBlock = 128;  // RFC 8467 §4.1: queries padded to 128 bytes

}  // namespace

void upstream_query_build_into(const Query& query, std::vector<std::uint8_t>& out,
                               UpstreamQueryShape shape) {
  const std::string& qname = query.question.qname_lower;
  // Options: edns-tcp-keepalive (4 bytes, no timeout from a client: RFC 7828 §3.2.1), then
  // the padding option's 4-byte header.
  const std::size_t options = (shape.keepalive ? 4 : 0) + (shape.padding ? 4 : 0);
  const std::size_t unpadded = kHeaderSize + qname.size() + 4 + wire::kOptFixedSize + options;
  const std::size_t padding =
      shape.padding ? (kPaddingBlock - unpadded % kPaddingBlock) % kPaddingBlock : 0;

  out.assign(kHeaderSize, 0);
  out.reserve(unpadded + padding);
  out[wire::kFlags1] = wire::kRdBit;
  out[wire::kFlags2] = query.cd || shape.dnssec ? wire::kCdBit : 0;
  wire::write_u16(out, wire::kQdCount, 1);
  wire::write_u16(out, wire::kArCount, 1);
  out.insert(out.end(), qname.begin(), qname.end());
  wire::append_u16(out, query.question.qtype);
  wire::append_u16(out, query.question.qclass);
  wire::append_opt(out, kMaxUdpReplyEdns, 0, query.dnssec_ok || shape.dnssec);
  // RFC 7830 §3: padding option of zero bytes; its length goes into the OPT RDLENGTH too.
  wire::write_u16(out, out.size() - 2, static_cast<std::uint16_t>(options + padding));
  if (shape.keepalive) {
    wire::append_u16(out, wire::kOptionKeepalive);
    wire::append_u16(out, 0);
  }
  if (shape.padding) {
    wire::append_u16(out, wire::kOptionPadding);
    wire::append_u16(out, static_cast<std::uint16_t>(padding));
    out.resize(out.size() + padding, 0);
  }
}

}  // namespace dp::dns
