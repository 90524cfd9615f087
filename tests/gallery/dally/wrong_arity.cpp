// A valid IR with the wrong number of inputs for MASK32.
#include <cstdio>
int main() { std::puts("1,2\nxor 3,1,2\n3"); }
