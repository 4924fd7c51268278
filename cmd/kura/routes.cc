#include "cmd/kura/routes.h"

#include <utility>

namespace kura::cmd {

void AddRemoteWriteRoute(ingest::RemoteWriteHandler* handler,
                         const ingest::RemoteWriteOptions& options, HttpServer* server) {
  server->Handle(
      "/api/v1/write",
      [handler](const base::HttpRequest& request, base::HttpResponse* response) {
        handler->Handle(request, response);
      },
      RouteOptions{.max_body_bytes = options.max_body_bytes});
}

void AddApiRoutes(std::vector<query::ApiRoute> routes, HttpServer* server) {
  for (query::ApiRoute& route : routes) {
    if (route.prefix) {
      server->HandlePrefix(route.path, route.name, std::move(route.handler));
    } else {
      server->Handle(route.path, std::move(route.handler));
    }
  }
}

}  // namespace kura::cmd
