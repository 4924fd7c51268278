#include "storage/wal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "storage/bit_stream.h"
#include "storage/keys.h"

namespace kura::storage {
namespace {

constexpr char kWalRecordVersion = 1;
// The same, followed by a second list: the write's out-of-order samples.
constexpr char kWalRecordWithOutOfOrderVersion = 2;
// Both lists, each series followed by its samples' start timestamps.
constexpr char kWalRecordWithStartsVersion = 3;
constexpr size_t kHeaderBytes = 8;  // length, CRC
constexpr size_t kMaxRecordBytes = size_t{1} << 30;

uint32_t Crc32(std::string_view data) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
}

void PutFixed32(std::string* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst->push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(errno)));
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool ReadAt(int fd, char* out, size_t n, int64_t offset) {
  while (n > 0) {
    const ssize_t got = pread(fd, out, n, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<size_t>(got);
    offset += got;
  }
  return true;
}

// A new file's name is durable only once its directory is synced.
bool SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = fsync(fd) == 0;
  close(fd);
  return ok;
}

}  // namespace

namespace {

void EncodeSeriesList(absl::Span<const WalSeriesSamples> series, bool with_starts,
                      std::string* dst) {
  PutVarint64(dst, series.size());
  for (const WalSeriesSamples& s : series) {
    PutVarint64(dst, s.ref);
    PutVarint64(dst, s.samples.size());
    for (const model::Sample& sample : s.samples) {
      PutInt64BE(dst, sample.timestamp_ms);
      PutUint64BE(dst, std::bit_cast<uint64_t>(sample.value));
    }
    if (!with_starts) continue;
    // A count of 0 or one per sample; each start as its zigzag difference (wrapping) from its
    // sample's timestamp, a few bytes for the usual start an interval or an uptime earlier.
    const bool has_starts = s.starts.size() == s.samples.size() && !s.starts.empty();
    PutVarint64(dst, has_starts ? s.starts.size() : 0);
    if (!has_starts) continue;
    for (size_t i = 0; i < s.samples.size(); ++i) {
      PutVarint64(dst, ZigzagEncode(
                           static_cast<int64_t>(static_cast<uint64_t>(s.starts[i]) -
                                                static_cast<uint64_t>(s.samples[i].timestamp_ms))));
    }
  }
}

bool DecodeStarts(std::string_view* in, WalSeriesSamples* s) {
  uint64_t num_starts = 0;
  if (!GetVarint64(in, &num_starts)) return false;
  if (num_starts == 0) return true;
  if (num_starts != s->samples.size()) return false;
  s->starts.resize(num_starts);
  for (size_t i = 0; i < num_starts; ++i) {
    uint64_t offset = 0;
    if (!GetVarint64(in, &offset)) return false;
    s->starts[i] = static_cast<int64_t>(static_cast<uint64_t>(s->samples[i].timestamp_ms) +
                                        static_cast<uint64_t>(ZigzagDecode(offset)));
  }
  return true;
}

bool DecodeSeriesList(std::string_view* in, bool with_starts, std::vector<WalSeriesSamples>* out) {
  out->clear();
  uint64_t num_series = 0;
  if (!GetVarint64(in, &num_series) || num_series > in->size()) return false;
  out->resize(num_series);
  for (WalSeriesSamples& s : *out) {
    uint64_t num_samples = 0;
    if (!GetVarint64(in, &s.ref) || !GetVarint64(in, &num_samples)) return false;
    if (num_samples > in->size() / 16) return false;
    s.samples.resize(num_samples);
    for (model::Sample& sample : s.samples) {
      sample.timestamp_ms = DecodeInt64BE(*in);
      sample.value = std::bit_cast<double>(DecodeUint64BE(in->substr(8)));
      in->remove_prefix(16);
    }
    if (with_starts && !DecodeStarts(in, &s)) return false;
  }
  return true;
}

bool AnyStarts(absl::Span<const WalSeriesSamples> series) {
  return std::any_of(series.begin(), series.end(),
                     [](const WalSeriesSamples& s) { return !s.starts.empty(); });
}

}  // namespace

void EncodeWalRecord(absl::Span<const WalSeriesSamples> series, std::string* dst,
                     absl::Span<const WalSeriesSamples> out_of_order) {
  if (AnyStarts(series) || AnyStarts(out_of_order)) {
    dst->push_back(kWalRecordWithStartsVersion);
    EncodeSeriesList(series, /*with_starts=*/true, dst);
    EncodeSeriesList(out_of_order, /*with_starts=*/true, dst);
    return;
  }
  dst->push_back(out_of_order.empty() ? kWalRecordVersion : kWalRecordWithOutOfOrderVersion);
  EncodeSeriesList(series, /*with_starts=*/false, dst);
  if (!out_of_order.empty()) EncodeSeriesList(out_of_order, /*with_starts=*/false, dst);
}

bool DecodeWalRecord(std::string_view in, std::vector<WalSeriesSamples>* out,
                     std::vector<WalSeriesSamples>* out_of_order) {
  out->clear();
  if (out_of_order != nullptr) out_of_order->clear();
  if (in.empty()) return false;
  const char version = in[0];
  in.remove_prefix(1);
  if (version == kWalRecordVersion) return DecodeSeriesList(&in, false, out) && in.empty();
  if (out_of_order == nullptr) return false;
  const bool with_starts = version == kWalRecordWithStartsVersion;
  if (version != kWalRecordWithOutOfOrderVersion && !with_starts) return false;
  return DecodeSeriesList(&in, with_starts, out) &&
         DecodeSeriesList(&in, with_starts, out_of_order) && in.empty();
}

Wal::~Wal() {
  if (fd_ >= 0) close(fd_);
}

std::string Wal::SegmentPath(uint64_t index) const {
  return absl::StrCat(dir_, "/", absl::Hex(index, absl::kZeroPad16));
}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(const std::string& dir, Options options) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("creating WAL directory ", dir, ": ", error.message()));
  }
  std::unique_ptr<Wal> wal(new Wal(dir, options));
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    uint64_t index = 0;
    if (name.size() == 16 && absl::SimpleHexAtoi(name, &index)) wal->segments_.push_back(index);
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("listing WAL directory ", dir, ": ", error.message()));
  }
  std::sort(wal->segments_.begin(), wal->segments_.end());
  int64_t replay_bytes = 0;
  for (uint64_t index : wal->segments_) {
    const std::uintmax_t size = std::filesystem::file_size(wal->SegmentPath(index), error);
    if (!error) replay_bytes += static_cast<int64_t>(size);
  }
  // Appends always start a fresh segment, so a replayed segment is never written again.
  RETURN_IF_ERROR(wal->OpenSegment(wal->segments_.empty() ? 1 : wal->segments_.back() + 1));
  // What a restart would replay counts towards the next checkpoint, as if just appended.
  wal->bytes_since_rotate_ = replay_bytes;
  return wal;
}

absl::Status Wal::OpenSegment(uint64_t index) {
  const std::string path = SegmentPath(index);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("creating WAL segment", path);
  if (options_.sync && !SyncDirectory(dir_)) {
    const absl::Status error = ErrnoError("syncing WAL directory", dir_);
    close(fd);
    return error;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  offset_ = 0;
  bytes_since_rotate_ = 0;
  segments_.push_back(index);
  return absl::OkStatus();
}

absl::Status Wal::Replay(absl::FunctionRef<absl::Status(std::string_view record)> fn) {
  // Every segment but the one Open created for appends.
  const size_t count = segments_.size() - 1;
  std::string payload;
  for (size_t i = 0; i < count; ++i) {
    const std::string path = SegmentPath(segments_[i]);
    const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return ErrnoError("opening WAL segment", path);
    absl::Cleanup closer = [fd] { close(fd); };
    struct stat st;
    if (fstat(fd, &st) != 0) return ErrnoError("reading WAL segment", path);
    const int64_t size = st.st_size;
    int64_t offset = 0;
    while (offset < size) {
      char header[kHeaderBytes];
      uint32_t length = 0;
      uint32_t crc = 0;
      bool whole = size - offset >= static_cast<int64_t>(kHeaderBytes) &&
                   ReadAt(fd, header, kHeaderBytes, offset);
      if (whole) {
        length = DecodeFixed32(header);
        crc = DecodeFixed32(header + 4);
        whole = length <= size - offset - static_cast<int64_t>(kHeaderBytes);
      }
      if (whole) {
        payload.resize(length);
        whole = ReadAt(fd, payload.data(), length, offset + kHeaderBytes) && Crc32(payload) == crc;
      }
      if (!whole) {
        if (i + 1 < count) {
          return absl::DataLossError(
              absl::StrCat("corrupt WAL record in ", path, " at offset ", offset));
        }
        // The process died in the middle of this append, which was never acknowledged.
        base::LogWarn("cutting a torn record off the end of the WAL",
                      {{"segment", path},
                       {"offset", absl::StrCat(offset)},
                       {"bytes", absl::StrCat(size - offset)}});
        if (ftruncate(fd, offset) != 0) return ErrnoError("truncating WAL segment", path);
        break;
      }
      RETURN_IF_ERROR(fn(payload));
      offset += static_cast<int64_t>(kHeaderBytes) + length;
    }
  }
  return absl::OkStatus();
}

absl::Status Wal::Append(std::string_view record) {
  RETURN_IF_ERROR(broken_);
  if (record.size() > kMaxRecordBytes) {
    return absl::InvalidArgumentError(absl::StrCat("WAL record of ", record.size(), " bytes"));
  }
  std::string framed;
  framed.reserve(kHeaderBytes + record.size());
  PutFixed32(&framed, static_cast<uint32_t>(record.size()));
  PutFixed32(&framed, Crc32(record));
  framed.append(record);
  if (!WriteAll(fd_, framed)) {
    const absl::Status error = ErrnoError("appending to the WAL in", dir_);
    // Take back whatever part was written, so the next record follows a whole one.
    if (ftruncate(fd_, offset_) != 0 || lseek(fd_, offset_, SEEK_SET) != offset_) {
      broken_ = error;
    }
    return error;
  }
  if (options_.sync && fdatasync(fd_) != 0) {
    // After a failed fsync the kernel may have dropped the pages: nothing is known to be safe.
    broken_ = ErrnoError("syncing the WAL in", dir_);
    return broken_;
  }
  offset_ += static_cast<int64_t>(framed.size());
  bytes_since_rotate_ += static_cast<int64_t>(framed.size());
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> Wal::Rotate() {
  RETURN_IF_ERROR(broken_);
  if (options_.sync && fdatasync(fd_) != 0) return ErrnoError("syncing the WAL in", dir_);
  RETURN_IF_ERROR(OpenSegment(segments_.back() + 1));
  return segments_.back();
}

absl::Status Wal::Truncate(uint64_t first_kept) {
  while (segments_.size() > 1 && segments_.front() < first_kept) {
    const std::string path = SegmentPath(segments_.front());
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return ErrnoError("deleting WAL segment", path);
    }
    segments_.erase(segments_.begin());
  }
  return absl::OkStatus();
}

}  // namespace kura::storage
