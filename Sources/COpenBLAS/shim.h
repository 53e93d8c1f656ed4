#include <cblas.h>
// OpenBLAS's thread control; declared here so the program sets one thread itself.
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
