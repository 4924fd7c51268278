#include "tests/integration/http_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace kura::integration {
namespace {

absl::Status Errno(absl::string_view what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::StatusOr<int> Connect(int port, absl::Duration timeout) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  timeval tv = absl::ToTimeval(timeout);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    absl::Status status = Errno(absl::StrCat("connect 127.0.0.1:", port));
    close(fd);
    return status;
  }
  return fd;
}

absl::Status SendAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("send");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Reads until the peer closes; the request asked for `Connection: close`.
absl::StatusOr<std::string> ReadAll(int fd) {
  std::string data;
  char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n == 0) return data;
    if (n < 0) {
      if (errno == EINTR) continue;
      // A server may reset instead of closing once it has sent the whole response.
      if (errno == ECONNRESET && !data.empty()) return data;
      return Errno(errno == EAGAIN ? "recv timed out" : "recv");
    }
    data.append(buffer, static_cast<size_t>(n));
  }
}

absl::StatusOr<std::string> Dechunk(absl::string_view body) {
  std::string out;
  for (;;) {
    size_t line_end = body.find("\r\n");
    if (line_end == absl::string_view::npos) return absl::DataLossError("truncated chunk size");
    absl::string_view size_text = body.substr(0, line_end);
    size_text = size_text.substr(0, size_text.find(';'));
    size_t size = 0;
    if (!absl::SimpleHexAtoi(absl::StripAsciiWhitespace(size_text), &size)) {
      return absl::DataLossError(absl::StrCat("bad chunk size '", size_text, "'"));
    }
    body.remove_prefix(line_end + 2);
    if (size == 0) return out;
    if (body.size() < size + 2) return absl::DataLossError("truncated chunk");
    out.append(body.data(), size);
    body.remove_prefix(size + 2);
  }
}

absl::StatusOr<HttpResult> ParseResponse(absl::string_view raw) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == absl::string_view::npos) {
    return absl::DataLossError(absl::StrCat("no complete response head in ", raw.size(), " bytes"));
  }
  std::vector<absl::string_view> lines = absl::StrSplit(raw.substr(0, head_end), "\r\n");
  HttpResult result;
  std::vector<absl::string_view> status_line = absl::StrSplit(lines[0], absl::MaxSplits(' ', 2));
  if (status_line.size() < 2 || !absl::StartsWith(status_line[0], "HTTP/1.") ||
      !absl::SimpleAtoi(status_line[1], &result.status)) {
    return absl::DataLossError(absl::StrCat("bad status line '", lines[0], "'"));
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    result.headers.emplace_back(absl::AsciiStrToLower(lines[i].substr(0, colon)),
                                absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
  }
  absl::string_view body = raw.substr(head_end + 4);
  if (absl::AsciiStrToLower(result.Header("transfer-encoding")) == "chunked") {
    absl::StatusOr<std::string> dechunked = Dechunk(body);
    if (!dechunked.ok()) return dechunked.status();
    result.body = *std::move(dechunked);
    return result;
  }
  if (absl::string_view length_text = result.Header("content-length"); !length_text.empty()) {
    size_t length = 0;
    if (!absl::SimpleAtoi(length_text, &length) || body.size() < length) {
      return absl::DataLossError(
          absl::StrCat("body has ", body.size(), " bytes, content-length says ", length_text));
    }
    body = body.substr(0, length);
  }
  result.body = std::string(body);
  return result;
}

}  // namespace

absl::string_view HttpResult::Header(absl::string_view lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return value;
  }
  return {};
}

absl::StatusOr<HttpResult> SendHttp(int port, const HttpCall& call) {
  absl::StatusOr<int> fd = Connect(port, call.timeout);
  if (!fd.ok()) return fd.status();
  absl::Cleanup close_fd = [fd = *fd] { close(fd); };
  std::string request =
      absl::StrCat(call.method, " ", call.target, " HTTP/1.1\r\nHost: 127.0.0.1:", port,
                   "\r\nConnection: close\r\n");
  for (const auto& [name, value] : call.headers)
    absl::StrAppend(&request, name, ": ", value, "\r\n");
  if (call.method != "GET" || !call.body.empty()) {
    absl::StrAppend(&request, "Content-Length: ", call.body.size(), "\r\n");
  }
  absl::StrAppend(&request, "\r\n", call.body);
  if (absl::Status sent = SendAll(*fd, request); !sent.ok()) return sent;
  absl::StatusOr<std::string> raw = ReadAll(*fd);
  if (!raw.ok()) return raw.status();
  return ParseResponse(*raw);
}

absl::StatusOr<HttpResult> HttpGet(int port, std::string target, absl::Duration timeout) {
  HttpCall call;
  call.target = std::move(target);
  call.timeout = timeout;
  return SendHttp(port, call);
}

std::string UrlEncode(absl::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

}  // namespace kura::integration
