#include "query/lexer.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kura::query {
namespace {

std::vector<std::string> Lex(std::string_view input) {
  Lexer lexer(input);
  std::vector<std::string> out;
  for (;;) {
    Token tok = lexer.Next();
    if (tok.type == TokenType::kEOF) break;
    out.push_back(tok.Describe());
    if (tok.type == TokenType::kError) break;
  }
  return out;
}

TEST(LexerTest, Tokens) {
  EXPECT_EQ(Lex("sum by (job) (rate(x[5m]))"),
            (std::vector<std::string>{"<aggr:sum>", "<by>", "\"(\"", "identifier \"job\"",
                                      "\")\"", "\"(\"", "identifier \"rate\"", "\"(\"",
                                      "identifier \"x\"", "\"[\"", "duration \"5m\"", "\"]\"",
                                      "\")\"", "\")\""}));
  EXPECT_EQ(Lex("a:b{c!~'d'} # comment"),
            (std::vector<std::string>{"metric identifier \"a:b\"", "\"{\"", "identifier \"c\"",
                                      "<op:!~>", "string \"'d'\"", "\"}\"",
                                      "comment \"# comment\""}));
  EXPECT_EQ(Lex("1 AND Inf nan 0x1F 1e-3 .5"),
            (std::vector<std::string>{"number \"1\"", "<op:AND>", "number \"Inf\"",
                                      "number \"nan\"", "number \"0x1F\"", "number \"1e-3\"",
                                      "number \".5\""}));
  // Keywords are plain identifiers inside braces.
  EXPECT_EQ(Lex("{by=\"x\"}"), (std::vector<std::string>{"\"{\"", "identifier \"by\"", "\"=\"",
                                                          "string \"\\\"x\\\"\"", "\"}\""}));
}

TEST(LexerTest, Errors) {
  EXPECT_EQ(Lex("(").back(), "unclosed left parenthesis");
  EXPECT_EQ(Lex("x[5m").back(), "unclosed left bracket");
  EXPECT_EQ(Lex("0deadbeef").back(), "bad number or duration syntax: \"0de\"");
  EXPECT_EQ(Lex("2.5.").back(), "bad number or duration syntax: \"2.5.\"");
  EXPECT_EQ(Lex("1 =~ 1").back(), "unexpected character after '=': '~'");
  EXPECT_EQ(Lex("\"\\q\"").back(), "unknown escape sequence U+0071 'q'");
  EXPECT_EQ(Lex("\"abc").back(), "unterminated quoted string");
  EXPECT_EQ(Lex("`abc").back(), "unterminated raw string");
  EXPECT_EQ(Lex("{a=\"b\"").back(), "unexpected end of input inside braces");
  EXPECT_EQ(Lex("x[").back(), "unexpected end of input in duration expression");
  EXPECT_EQ(Lex("é").back(), "unexpected character: 'é'");
}

TEST(LexerTest, NumberLiterals) {
  EXPECT_EQ(*ParseNumberLiteral("0755"), 493);
  EXPECT_EQ(*ParseNumberLiteral("0x1f"), 31);
  EXPECT_EQ(*ParseNumberLiteral("1_000"), 1000);
  EXPECT_EQ(*ParseNumberLiteral("08"), 8);
  EXPECT_EQ(*ParseNumberLiteral("5e-3"), 0.005);
  EXPECT_TRUE(std::isinf(*ParseNumberLiteral("Inf")));
  EXPECT_TRUE(std::isnan(*ParseNumberLiteral("NaN")));
  EXPECT_EQ(ParseNumberLiteral("1e999").status().message(),
            "strconv.ParseFloat: parsing \"1e999\": value out of range");
}

TEST(LexerTest, Strings) {
  EXPECT_EQ(*UnquoteString("\"a\\tb\\\"\\u00e9\\x41\""), "a\tb\"\xc3\xa9" "A");
  EXPECT_EQ(*UnquoteString("'it\\'s'"), "it's");
  EXPECT_EQ(*UnquoteString("`raw\\n`"), "raw\\n");
  EXPECT_EQ(GoQuote("a\"b\\c\n\x01\xff"), "\"a\\\"b\\\\c\\n\\x01\\xff\"");
  EXPECT_EQ(GoQuoteRune('\''), "'\\''");
}

}  // namespace
}  // namespace kura::query
