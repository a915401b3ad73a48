// libFuzzer's driver entry (compiler-rt's fuzzer_no_main / fuzzer runtime), for a Swift `main`.
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
