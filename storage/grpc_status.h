#pragma once

// absl::Status <-> grpc::Status: the only place the two meet. Both use the canonical codes, so
// the code and message cross unchanged; used by storage::NodeService on the server and by
// shard::NodeClient on the client (storage/ holds it because shard/ may include storage/, not
// the other way round). Include only from .cc files that already speak gRPC.

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace kura::storage {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace kura::storage
