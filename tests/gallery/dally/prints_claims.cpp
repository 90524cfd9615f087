// A generator that prints a claimed result instead of an IR program.
#include <cstdio>
int main() { std::puts("cost 1\nrecovery 1.0\nstatus ok"); }
