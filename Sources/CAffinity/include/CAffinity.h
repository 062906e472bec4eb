#ifndef FLOWAUDIT_CAFFINITY_H
#define FLOWAUDIT_CAFFINITY_H

/// The number of CPUs this process may run on (its affinity mask, as `taskset` sets it), or 0
/// when the system cannot tell.
int flowaudit_available_cores(void);

#endif
