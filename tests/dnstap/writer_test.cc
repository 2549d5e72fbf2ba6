#include "dnstap/writer.h"

#include <arpa/inet.h>
#include <fstrm.h>
#include <gtest/gtest.h>
#include <sys/uio.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "dnstap/dnstap.pb-c.h"
#include "dnstap/tap.h"
#include "fakes/test_pki.h"

namespace dp::dnstap {
namespace {

// A libfstrm stream whose open() waits until the test lets it go, so that the I/O thread takes
// nothing from the queues until then: a collector that does not keep up, without sleeps. It
// keeps every byte written, to be read back as frames.
class GatedStream {
 public:
  // A writer over this stream; the Writer takes it.
  fstrm_writer* writer_make() {
    fstrm_rdwr* rdwr = fstrm_rdwr_init(this);
    fstrm_rdwr_set_open(
        rdwr, [](void* self) noexcept { return static_cast<GatedStream*>(self)->open(); });
    fstrm_rdwr_set_close(rdwr, [](void*) noexcept { return fstrm_res_success; });
    fstrm_rdwr_set_write(rdwr, [](void* self, const iovec* iov, int count) noexcept {
      return static_cast<GatedStream*>(self)->write(iov, count);
    });
    fstrm_writer_options* options = fstrm_writer_options_init();
    fstrm_writer_options_add_content_type(options, kContentType.data(), kContentType.size());
    fstrm_writer* writer = fstrm_writer_init(options, &rdwr);
    fstrm_writer_options_destroy(&options);
    return writer;
  }

  void release() {
    const std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

  // The data frames written (control frames skipped), each a payload.
  std::vector<std::vector<std::uint8_t>> data_frames() const {
    std::vector<std::vector<std::uint8_t>> out;
    std::size_t at = 0;
    const auto u32 = [this, &at] {
      std::uint32_t n = 0;
      std::memcpy(&n, bytes_.data() + at, 4);
      at += 4;
      return ntohl(n);
    };
    while (at + 4 <= bytes_.size()) {
      const std::uint32_t length = u32();
      if (length == 0) {  // Frame Streams: an escape, then a control frame
        at += u32();
        continue;
      }
      out.emplace_back(bytes_.begin() + at, bytes_.begin() + at + length);
      at += length;
    }
    return out;
  }

 private:
  fstrm_res open() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return released_; });
    return fstrm_res_success;
  }
  fstrm_res write(const iovec* iov, int count) {
    for (int i = 0; i < count; ++i) {
      const auto* p = static_cast<const std::uint8_t*>(iov[i].iov_base);
      bytes_.insert(bytes_.end(), p, p + iov[i].iov_len);
    }
    return fstrm_res_success;
  }

  std::mutex mutex_;
  std::condition_variable changed_;
  bool released_ = false;
  std::vector<std::uint8_t> bytes_;  // the I/O thread's only, until the Writer is gone
};

Event query_event(const std::vector<std::uint8_t>& message, const SocketAddress& client) {
  Event event;
  event.type = MessageType::kClientQuery;
  event.query_address = &client;
  event.message = message;
  return event;
}

TEST(DnstapWriterTest, AFullQueueDropsAndCountsWhileTheQueuedFramesAreWrittenLater) {
  constexpr std::size_t kQueueFrames = 16;
  constexpr int kSent = 100;
  GatedStream stream;
  std::uint64_t queued = 0;
  std::uint64_t dropped = 0;
  const auto client = *SocketAddress::parse("127.0.0.1:4000");
  {
    Writer writer(stream.writer_make(), WriterOptions{.queues = 2, .queue_frames = kQueueFrames});
    Tap tap(writer, 1, kAllMessages, Source{"id", "v"}, queued, dropped);
    for (int i = 0; i < kSent; ++i) {
      const std::vector<std::uint8_t> message(12, static_cast<std::uint8_t>(i));
      tap.log(query_event(message, client));  // never blocks, the stream being stuck
    }
    EXPECT_EQ(queued + dropped, static_cast<std::uint64_t>(kSent));
    EXPECT_LE(queued, kQueueFrames);  // bounded: the rest was dropped, not queued
    EXPECT_GE(queued, kQueueFrames / 2);
    EXPECT_GE(dropped, kSent - kQueueFrames);
    stream.release();
  }  // the Writer's end writes out what was queued
  const auto frames = stream.data_frames();
  ASSERT_EQ(frames.size(), queued);
  // The first ones were queued, in order, and decode.
  for (std::size_t i = 0; i < frames.size(); ++i) {
    Dnstap__Dnstap* frame = dnstap__dnstap__unpack(nullptr, frames[i].size(), frames[i].data());
    ASSERT_NE(frame, nullptr) << i;
    ASSERT_NE(frame->message, nullptr);
    ASSERT_EQ(frame->message->query_message.len, 12u);
    EXPECT_EQ(frame->message->query_message.data[0], i);
    dnstap__dnstap__free_unpacked(frame, nullptr);
  }
}

TEST(DnstapWriterTest, MessageTypesNotWantedAreNotWritten) {
  GatedStream stream;
  std::uint64_t queued = 0;
  std::uint64_t dropped = 0;
  Writer writer(stream.writer_make(), WriterOptions{});
  const Tap tap(writer, 0, message_bit(MessageType::kClientResponse), Source{}, queued, dropped);
  EXPECT_TRUE(tap.wants(MessageType::kClientResponse));
  EXPECT_FALSE(tap.wants(MessageType::kClientQuery));
  EXPECT_FALSE(tap.wants(MessageType::kForwarderQuery));
  stream.release();
}

TEST(DnstapWriterTest, AFileGetsAFrameStreamOfDnstapWithItsContentType) {
  testing::TempDir dir("dotproxy-dnstap");
  const std::string path = dir.file("tap.fstrm");
  std::uint64_t queued = 0;
  std::uint64_t dropped = 0;
  const auto client = *SocketAddress::parse("127.0.0.1:4000");
  {
    auto writer = Writer::open(destination_parse("file:" + path), WriterOptions{});
    Tap tap(*writer, 0, kAllMessages, Source{"id", "v"}, queued, dropped);
    for (int i = 0; i < 3; ++i) {
      const std::vector<std::uint8_t> message(20, static_cast<std::uint8_t>(i));
      tap.log(query_event(message, client));
    }
  }
  EXPECT_EQ(queued, 3u);
  EXPECT_EQ(dropped, 0u);

  fstrm_file_options* file_options = fstrm_file_options_init();
  fstrm_file_options_set_file_path(file_options, path.c_str());
  fstrm_reader_options* reader_options = fstrm_reader_options_init();
  fstrm_reader_options_add_content_type(reader_options, kContentType.data(), kContentType.size());
  fstrm_reader* reader = fstrm_file_reader_init(file_options, reader_options);
  ASSERT_NE(reader, nullptr);
  int frames = 0;
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  while (fstrm_reader_read(reader, &data, &size) == fstrm_res_success) {
    Dnstap__Dnstap* frame = dnstap__dnstap__unpack(nullptr, size, data);
    ASSERT_NE(frame, nullptr);
    EXPECT_EQ(frame->message->query_message.data[0], frames);
    dnstap__dnstap__free_unpacked(frame, nullptr);
    ++frames;
  }
  fstrm_reader_destroy(&reader);
  fstrm_reader_options_destroy(&reader_options);
  fstrm_file_options_destroy(&file_options);
  EXPECT_EQ(frames, 3);
}

TEST(DnstapWriterTest, DestinationsAndBadOnes) {
  const Destination file = destination_parse("file:/var/log/tap.fstrm");
  EXPECT_EQ(file.kind, Destination::Kind::kFile);
  EXPECT_EQ(file.path, "/var/log/tap.fstrm");
  const Destination socket = destination_parse("/run/dnstap.sock");
  EXPECT_EQ(socket.kind, Destination::Kind::kUnixSocket);
  EXPECT_EQ(socket.path, "/run/dnstap.sock");
  try {
    (void)Writer::open(destination_parse("file:/nonexistent-dir/tap.fstrm"), WriterOptions{});
    ADD_FAILURE() << "opened";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open /nonexistent-dir/tap.fstrm"),
              std::string::npos)
        << e.what();
  }
  // A collector that is not there yet is no start-up error: it is tried again and again.
  testing::TempDir dir("dotproxy-dnstap");
  EXPECT_NE(Writer::open(destination_parse(dir.file("absent.sock")), WriterOptions{}), nullptr);
}

}  // namespace
}  // namespace dp::dnstap
