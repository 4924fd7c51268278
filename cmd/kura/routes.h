#pragma once

// Registering the write and query endpoints on the HTTP server, the same for standalone and
// the cluster roles.

#include <vector>

#include "cmd/kura/http_server.h"
#include "ingest/remote_write_handler.h"
#include "query/api.h"

namespace kura::cmd {

// POST /api/v1/write. `handler` must outlive the server.
void AddRemoteWriteRoute(ingest::RemoteWriteHandler* handler,
                         const ingest::RemoteWriteOptions& options, HttpServer* server);

// The endpoints of query::Api or query::AdminApi (`api.Routes()`); the API must outlive the
// server.
void AddApiRoutes(std::vector<query::ApiRoute> routes, HttpServer* server);

}  // namespace kura::cmd
