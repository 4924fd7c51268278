#pragma once

// RETURN_IF_ERROR and ASSIGN_OR_RETURN, as the later ABSL_ macros of the same names behave.
// Debian 12's Abseil (20220623) lacks them; moving to a newer Abseil is a rename.

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define KURA_STATUS_CONCAT_INNER(a, b) a##b
#define KURA_STATUS_CONCAT(a, b) KURA_STATUS_CONCAT_INNER(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the enclosing function if not OK.
#define RETURN_IF_ERROR(expr)                                         \
  do {                                                                \
    ::absl::Status kura_status_macro_status = (expr);                 \
    if (!kura_status_macro_status.ok()) return kura_status_macro_status; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, rexpr): evaluates `rexpr` (an absl::StatusOr<T>); on error returns its
// status, otherwise moves the value into `lhs`, which may be a declaration.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  KURA_ASSIGN_OR_RETURN_IMPL(KURA_STATUS_CONCAT(kura_statusor_, __LINE__), lhs, rexpr)

#define KURA_ASSIGN_OR_RETURN_IMPL(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)
