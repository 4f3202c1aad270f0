// COpenBLAS: the system OpenBLAS (Debian libopenblas-dev), imported only by NeuralNet.
// cblas.h declares cblas_sgemm and openblas_set_num_threads / openblas_get_config.
#pragma once
#include <cblas.h>
