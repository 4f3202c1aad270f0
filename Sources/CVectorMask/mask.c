// CVectorMask is header-only (include/CVectorMask.h); SwiftPM needs one source file for a C target.
#include "CVectorMask.h"
