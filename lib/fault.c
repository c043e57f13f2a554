/* fault.c - the test-only fault injection hook; see fault.h. */
#include "lib/fault.h"

#ifdef RMON_TESTING
int (*fault_hook)(const char *point);
#else
typedef int fault_unused; /* an empty file is not valid C */
#endif
