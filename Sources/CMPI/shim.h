// Open MPI's C interface (Debian: libopenmpi-dev; headers found through pkg-config ompi-c).
#include <mpi.h>

// The predefined handles are macros over addresses of library globals, which Swift does not
// import; these accessors hand them to Swift as values.
static inline MPI_Comm laminar_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype laminar_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype laminar_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype laminar_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op laminar_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Errhandler laminar_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline void *laminar_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline int laminar_mpi_success(void) { return MPI_SUCCESS; }
static inline int laminar_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline int laminar_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
