// base/: the utilities every module shares.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include <doctest/doctest.h>

#include "base/digest.h"
#include "base/file.h"
#include "base/process.h"
#include "base/shell_quote.h"

using namespace ergon::base;

TEST_CASE("sha256 matches the FIPS 180-4 examples" * doctest::test_suite("fast")) {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  CHECK(Sha256Hex(std::string("a\0b", 3)) != Sha256Hex("ab"));  // bytes, not a C string
}

TEST_CASE("base64 matches RFC 4648's examples and round-trips any bytes" * doctest::test_suite("fast")) {
  const std::pair<const char*, const char*> rfc[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                     {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                     {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : rfc) {
    CHECK(Base64Encode(plain) == coded);
    CHECK(Base64Decode(coded) == std::optional<std::string>(plain));
  }
  std::mt19937 rng(7);
  std::string bytes;
  for (int n = 0; n < 300; ++n) {
    CHECK_MESSAGE(Base64Decode(Base64Encode(bytes)) == std::optional<std::string>(bytes), n);
    bytes += static_cast<char>(rng());
  }
  // Line breaks and blanks (a comment block) are skipped; anything else is refused.
  CHECK(Base64Decode("Zm9v\nYmFy\n") == std::optional<std::string>("foobar"));
  CHECK(Base64Decode(" Zm9v Yg== ") == std::optional<std::string>("foob"));
  CHECK_FALSE(Base64Decode("Zm9v!mFy"));
  CHECK_FALSE(Base64Decode("Zm9"));
}

TEST_CASE("a whole file is written and read back; a missing one is nullopt" * doctest::test_suite("fast")) {
  const auto dir = std::filesystem::temp_directory_path() / ("ergon-base-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string big(3 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919);
  const std::string path = (dir / "f.bin").string();
  REQUIRE(WriteFile(path, big));
  CHECK(ReadFile(path) == std::optional<std::string>(big));
  REQUIRE(WriteFile(path, "short"));  // truncated, not overwritten in place
  CHECK(ReadFile(path) == std::optional<std::string>("short"));
  CHECK_FALSE(ReadFile((dir / "missing").string()));
  CHECK_FALSE(WriteFile((dir / "no-such-folder" / "x").string(), "x"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("shell quoting leaves plain words and quotes the rest" * doctest::test_suite("fast")) {
  CHECK(ShellQuote("ergon.db") == "ergon.db");
  CHECK(ShellQuote("") == "''");
  CHECK(ShellQuote("a b") == "'a b'");
  CHECK(ShellQuote("it's") == "'it'\\''s'");
  // What sh makes of the quoted word is the word.
  const auto r = RunProcess({"sh", "-c", "printf %s " + ShellQuote("$HOME `x` it's \\n")});
  CHECK(r.output == "$HOME `x` it's \\n");
}

TEST_CASE("a process: output, exit status, signal, timeout, environment, and one that cannot start" *
          doctest::test_suite("fast")) {
  auto r = RunProcess({"sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(r.started);
  CHECK(r.exited);
  CHECK(r.status == 3);
  CHECK(r.Code() == 3);
  CHECK(r.output == "out\nerr\n");
  ProcessOptions quiet;
  quiet.merge_stderr = false;
  CHECK(RunProcess({"sh", "-c", "echo out; echo err >&2"}, quiet).output == "out\n");
  auto killed = RunProcess({"sh", "-c", "kill -9 $$"});
  CHECK_FALSE(killed.exited);
  CHECK(killed.signal == 9);
  CHECK(killed.Code() == 128 + 9);
  ProcessOptions slow;
  slow.timeout_s = 0.3;
  auto t0 = std::chrono::steady_clock::now();
  auto late = RunProcess({"sleep", "30"}, slow);
  CHECK(late.timed_out);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  ProcessOptions env;
  env.env = std::vector<std::string>{"PATH=/usr/bin:/bin", "ONLY=this"};
  CHECK(RunProcess({"sh", "-c", "echo $ONLY; echo ${HOME:-none}"}, env).output == "this\nnone\n");
  auto missing = RunProcess({"/no/such/program"});
  CHECK_FALSE(missing.started);
  CHECK(missing.Code() == -1);
  CHECK(missing.error.find("/no/such/program") != std::string::npos);
  ProcessOptions shared;
  shared.capture = false;
  CHECK(RunProcess({"true"}, shared).Code() == 0);
}
