#include <cstdio>
#include <cstring>
#include <vector>
int main() {
  std::vector<char*> keep;
  for (;;) {
    char* p = new char[64 << 20];  // throws std::bad_alloc at the limit
    std::memset(p, 1, 64 << 20);
    keep.push_back(p);
  }
}
