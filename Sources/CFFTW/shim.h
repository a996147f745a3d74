#define FFTW_NO_Complex 1
#include <fftw3.h>
