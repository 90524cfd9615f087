// A valid MASK32 IR that outputs zeros: it runs, and recovers nothing.
#include <cstdio>
#include <string>
int main() {
  std::string in;
  for (int i = 1; i <= 594; ++i) in += (i > 1 ? "," : "") + std::to_string(i);
  std::printf("%s\nset 600,0\n", in.c_str());
  std::string out;
  for (int i = 0; i < 32; ++i) out += (i ? "," : "") + std::string("600");
  std::printf("%s\n", out.c_str());
}
