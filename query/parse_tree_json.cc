#include "query/parse_tree_json.h"

#include <optional>
#include <string_view>
#include <variant>

#include "query/function_signatures.h"

namespace kura::query {
namespace {

std::string_view MatchTypeName(model::MatchType t) {
  switch (t) {
    case model::MatchType::kEqual:
      return "=";
    case model::MatchType::kNotEqual:
      return "!=";
    case model::MatchType::kRegexMatch:
      return "=~";
    case model::MatchType::kRegexNoMatch:
      return "!~";
  }
  return "=";
}

std::string_view CardinalityName(VectorMatchCardinality card) {
  switch (card) {
    case VectorMatchCardinality::kOneToOne:
      return "one-to-one";
    case VectorMatchCardinality::kManyToOne:
      return "many-to-one";
    case VectorMatchCardinality::kOneToMany:
      return "one-to-many";
    case VectorMatchCardinality::kManyToMany:
      return "many-to-many";
  }
  return "one-to-one";
}

void Strings(const std::vector<std::string>& values, JsonWriter* w) {
  w->BeginArray();
  for (const std::string& v : values) w->String(v);
  w->EndArray();
}

void OptionalNumber(const std::optional<double>& v, JsonWriter* w) {
  if (v.has_value()) {
    w->GoJsonNumber(*v);
  } else {
    w->Null();
  }
}

void Matchers(const std::vector<model::LabelMatcher>& matchers, JsonWriter* w) {
  w->BeginArray();
  for (const model::LabelMatcher& m : matchers) {
    w->BeginObject();
    w->Key("name");
    w->String(m.name());
    w->Key("type");
    w->String(MatchTypeName(m.type()));
    w->Key("value");
    w->String(m.value());
    w->EndObject();
  }
  w->EndArray();
}

void StartOrEnd(AtModifier at, JsonWriter* w) {
  w->Key("startOrEnd");
  if (at == AtModifier::kStart) {
    w->String("start");
  } else if (at == AtModifier::kEnd) {
    w->String("end");
  } else {
    w->Null();
  }
}

// The `@` time in milliseconds, or null.
void Timestamp(AtModifier at, int64_t at_ms, JsonWriter* w) {
  w->Key("timestamp");
  if (at == AtModifier::kTimestamp) {
    w->Int(at_ms);
  } else {
    w->Null();
  }
}

void Type(std::string_view type, JsonWriter* w) {
  w->Key("type");
  w->String(type);
}

struct TreeWriter {
  JsonWriter* w;

  void operator()(const NumberLiteral& n) const {
    Type("numberLiteral", w);
    w->Key("val");
    w->GoFloatString(n.value);
  }
  void operator()(const StringLiteral& s) const {
    Type("stringLiteral", w);
    w->Key("val");
    w->String(s.value);
  }
  // Selector fields up to "offset"; the caller writes "range" (matrix only) and the rest.
  void SelectorHead(const VectorSelector& vs) const {
    w->Key("anchored");
    w->Bool(vs.anchored);
    w->Key("matchers");
    Matchers(vs.matchers, w);
    w->Key("name");
    w->String(vs.name);
    w->Key("offset");
    w->Int(vs.offset_ms);
  }
  void SelectorTail(const VectorSelector& vs, std::string_view type) const {
    w->Key("smoothed");
    w->Bool(vs.smoothed);
    StartOrEnd(vs.at, w);
    Timestamp(vs.at, vs.at_ms, w);
    Type(type, w);
  }
  void operator()(const VectorSelector& vs) const {
    SelectorHead(vs);
    SelectorTail(vs, "vectorSelector");
  }
  void operator()(const MatrixSelector& ms) const {
    const auto& vs = std::get<VectorSelector>(ms.selector->node);
    SelectorHead(vs);
    w->Key("range");
    w->Int(ms.range_ms);
    SelectorTail(vs, "matrixSelector");
  }
  void operator()(const SubqueryExpr& sq) const {
    w->Key("alignEvalTime");
    w->Bool(false);  // Kura has no step-aligned subqueries
    Child("expr", *sq.expr);
    w->Key("offset");
    w->Int(sq.offset_ms);
    w->Key("range");
    w->Int(sq.range_ms);
    StartOrEnd(sq.at, w);
    w->Key("step");
    w->Int(sq.step_ms);
    Timestamp(sq.at, sq.at_ms, w);
    Type("subquery", w);
  }
  void operator()(const Call& c) const {
    w->Key("args");
    w->BeginArray();
    for (const ExprPtr& arg : c.args) WriteParseTree(*arg, w);
    w->EndArray();
    w->Key("func");
    w->BeginObject();
    const FunctionSignature* f = LookupFunction(c.name);
    w->Key("argTypes");
    w->BeginArray();
    if (f != nullptr) {
      for (ValueType t : f->arg_types) w->String(ValueTypeName(t));
    }
    w->EndArray();
    w->Key("name");
    w->String(c.name);
    w->Key("returnType");
    w->String(ValueTypeName(f != nullptr ? f->return_type : ValueType::kNone));
    w->Key("variadic");
    w->Int(f != nullptr ? f->variadic : 0);
    w->EndObject();
    Type("call", w);
  }
  void operator()(const AggregateExpr& a) const {
    Child("expr", *a.expr);
    w->Key("grouping");
    Strings(a.grouping, w);
    w->Key("op");
    w->String(AggregateOpName(a.op));
    w->Key("param");
    if (a.param != nullptr) {
      WriteParseTree(*a.param, w);
    } else {
      w->Null();
    }
    Type("aggregation", w);
    w->Key("without");
    w->Bool(a.without);
  }
  void operator()(const BinaryExpr& b) const {
    w->Key("bool");
    w->Bool(b.return_bool);
    Child("lhs", *b.lhs);
    w->Key("matching");
    if (b.matching.has_value()) {
      const VectorMatching& m = *b.matching;
      w->BeginObject();
      w->Key("card");
      w->String(CardinalityName(m.card));
      w->Key("fillValues");
      w->BeginObject();
      w->Key("lhs");
      OptionalNumber(m.fill_lhs, w);
      w->Key("rhs");
      OptionalNumber(m.fill_rhs, w);
      w->EndObject();
      w->Key("include");
      Strings(m.include, w);
      w->Key("labels");
      Strings(m.matching_labels, w);
      w->Key("on");
      w->Bool(m.on);
      w->EndObject();
    } else {
      w->Null();
    }
    w->Key("op");
    w->String(BinaryOpName(b.op));
    Child("rhs", *b.rhs);
    Type("binaryExpr", w);
  }
  void operator()(const UnaryExpr& u) const {
    Child("expr", *u.expr);
    w->Key("op");
    w->String(u.negate ? "-" : "+");
    Type("unaryExpr", w);
  }
  void operator()(const ParenExpr& p) const {
    Child("expr", *p.expr);
    Type("parenExpr", w);
  }

  void Child(std::string_view key, const Expr& e) const {
    w->Key(key);
    WriteParseTree(e, w);
  }
};

}  // namespace

void WriteParseTree(const Expr& expr, JsonWriter* w) {
  w->BeginObject();
  std::visit(TreeWriter{w}, expr.node);
  w->EndObject();
}

}  // namespace kura::query
