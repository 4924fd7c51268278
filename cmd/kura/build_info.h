#pragma once

// The build's version, revision and branch, for /api/v1/status/buildinfo and logs.

#include "query/api.h"

namespace kura::cmd {

query::BuildInfo KuraBuildInfo();

}  // namespace kura::cmd
