#include "cmd/kura/build_info.h"

#include "absl/strings/str_cat.h"

namespace kura::cmd {

query::BuildInfo KuraBuildInfo() {
  return query::BuildInfo{.version = KURA_VERSION,
                          .revision = KURA_REVISION,
                          .branch = KURA_BRANCH,
                          .build_user = "",
                          .build_date = __DATE__ " " __TIME__,
                          .go_version = absl::StrCat("g++ ", __VERSION__)};
}

}  // namespace kura::cmd
