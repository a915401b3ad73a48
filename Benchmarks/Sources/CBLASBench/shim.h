// OpenBLAS's CBLAS interface (Debian: libopenblas-dev).
#include <cblas.h>
// Thread control, declared by OpenBLAS's own cblas.h; repeated here for builds against other CBLAS headers.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
