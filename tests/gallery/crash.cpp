int main(int argc, char**) {
  volatile int* p = nullptr;
  if (argc > 0) *p = 1;
  return 0;
}
